package dev.unetlens.web.labels;

import dev.unetlens.web.ApiError;
import dev.unetlens.web.Json;
import dev.unetlens.web.Params;
import dev.unetlens.web.runs.Manifests;
import dev.unetlens.web.runs.RunsRoot;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The anomaly labeler's API over an image dump. Every change is the whole list, written atomically before the
 * answer; one run's writes are serialised.
 * <pre>
 *   GET  /api/labels?run=ID         the labels, with counts per image
 *   PUT  /api/labels?run=ID         replace them: {"labels": [{"image", "x", "y"}]}
 *   GET  /api/labels.npy?run=ID     export: the paper's int64 [N, 3] of (image index, x, y)
 *   POST /api/labels.npy?run=ID     import the paper's .npy (replaces the labels)
 *   GET  /api/labels/candidates?run&amp;module&amp;image&amp;row&amp;k   the detector's patches on the image's norm map
 *                                   ({@link Candidates}), shown pre-marked; a click accepts one as a label
 * </pre>
 */
public final class LabelsApi {
    private final RunsRoot root;
    private final Map<Path, Object> locks = new ConcurrentHashMap<>();

    private final Manifests manifests;

    public LabelsApi(RunsRoot root, Manifests manifests) {
        this.root = root;
        this.manifests = manifests;
    }

    public void routes(JavalinConfig c) {
        c.routes.get("/api/labels", ctx -> Json.send(ctx, LabelStore.toJson(LabelStore.read(dir(ctx), images(dir(ctx))))));
        c.routes.put("/api/labels", ctx -> save(ctx, LabelStore.fromJson(Json.body(ctx), images(dir(ctx)))));
        c.routes.get("/api/labels.npy", this::export);
        c.routes.post("/api/labels.npy", ctx -> save(ctx, LabelStore.fromNpy(ctx.bodyAsBytes(), images(dir(ctx)))));
        c.routes.get("/api/labels/candidates", ctx -> Candidates.send(root, manifests, ctx));
    }

    private Path dir(Context ctx) {
        return root.run(Params.text(ctx, "run"));
    }

    /** The dump's image names, in order; a 422 if the run is not an image dump. */
    private List<String> images(Path dir) {
        List<String> names = manifests.catalog(dir).imageNames();
        if (names.isEmpty()) {
            throw ApiError.unreadable("this run is not an image dump (extract --images); it has nothing to label");
        }
        return names;
    }

    private void save(Context ctx, Labels labels) {
        Path dir = dir(ctx);
        synchronized (locks.computeIfAbsent(dir, k -> new Object())) {
            LabelStore.write(dir, labels);
        }
        Json.send(ctx, LabelStore.toJson(labels));
    }

    private void export(Context ctx) {
        Path dir = dir(ctx);
        ctx.header("Content-Disposition", "attachment; filename=\"anomaly-labels.npy\"");
        ctx.contentType("application/octet-stream").result(LabelStore.toNpy(LabelStore.read(dir, images(dir))));
    }
}
