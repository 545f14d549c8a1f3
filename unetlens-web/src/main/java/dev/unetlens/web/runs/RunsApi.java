package dev.unetlens.web.runs;

import dev.unetlens.web.ApiError;
import dev.unetlens.web.Json;
import dev.unetlens.web.Params;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Runs page's API: the list of runs (filtered), one run's manifest, its files, and thumbnails.
 * <pre>
 *   GET /api/runs?q=TEXT&amp;command=C&amp;model=M   summaries, newest first
 *   GET /api/run?run=ID                          summary and manifest (422 for an unreadable run)
 *   GET /api/file?run=ID&amp;path=NAME              a file of the run, as it is
 *   GET /api/thumb?run=ID&amp;path=NAME.png         a PNG of the run, at most {@value Thumbnails#SIDE} px
 * </pre>
 */
public final class RunsApi {
    private static final Map<String, String> TYPES = Map.of("png", "image/png", "json", "application/json",
            "txt", "text/plain; charset=utf-8", "csv", "text/csv; charset=utf-8", "md", "text/plain; charset=utf-8",
            "jpg", "image/jpeg", "jpeg", "image/jpeg", "webp", "image/webp");
    private final RunsRoot root;
    private final RunIndex index;
    private final Thumbnails thumbnails = new Thumbnails();

    public RunsApi(RunsRoot root, RunIndex index) {
        this.root = root;
        this.index = index;
    }

    public void routes(JavalinConfig c) {
        c.routes.get("/api/runs", this::list);
        c.routes.get("/api/run", this::run);
        c.routes.get("/api/file", this::file);
        c.routes.get("/api/thumb", this::thumb);
    }

    private void list(Context ctx) {
        String q = lower(Params.text(ctx, "q", ""));
        String command = lower(Params.text(ctx, "command", ""));
        String model = lower(Params.text(ctx, "model", ""));
        List<RunSummary> runs = index.list().stream()
                .filter(r -> command.isEmpty() || lower(r.command()).startsWith(command))
                .filter(r -> model.isEmpty() || lower(r.model()).contains(model))
                .filter(r -> q.isEmpty() || lower(r.prompt()).contains(q) || lower(r.id()).contains(q))
                .toList();
        Json.send(ctx, Json.MAPPER.createObjectNode().put("root", root.path().toString())
                .set("runs", Json.MAPPER.valueToTree(runs)));
    }

    private void run(Context ctx) {
        Path dir = root.run(Params.text(ctx, "run"));
        RunSummary s = index.summary(dir);
        Manifest m = Manifest.read(dir);
        var o = Json.object();
        o.set("summary", Json.MAPPER.valueToTree(s));
        o.set("manifest", m.json().isMissingNode() ? null : m.json());
        Json.send(ctx, o);
    }

    private void file(Context ctx) throws IOException {
        Path dir = root.run(Params.text(ctx, "run"));
        Path file = root.file(dir, Params.text(ctx, "path"));
        String name = file.getFileName().toString();
        String ext = name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
        ctx.contentType(TYPES.getOrDefault(ext, "application/octet-stream"));
        if (!TYPES.containsKey(ext)) {
            ctx.header("Content-Disposition", "attachment; filename=\"" + name.replaceAll("[^\\w.-]", "_") + "\"");
        }
        InputStream in = Files.newInputStream(file);
        ctx.result(in);                                    // Javalin closes the stream when it is sent
    }

    private void thumb(Context ctx) {
        Path dir = root.run(Params.text(ctx, "run"));
        String name = Params.text(ctx, "path");
        if (!name.toLowerCase(Locale.ROOT).endsWith(".png")) {
            throw ApiError.badParameter("path", "thumbnails are of PNG files; '" + name + "' is not one");
        }
        byte[] png = thumbnails.of(root.file(dir, name));
        ctx.header("Cache-Control", "private, max-age=60");
        ctx.contentType("image/png").result(png);
    }

    private static String lower(String s) {
        return s == null ? "" : s.toLowerCase(Locale.ROOT);
    }
}
