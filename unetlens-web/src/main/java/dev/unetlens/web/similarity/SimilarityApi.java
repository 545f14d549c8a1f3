package dev.unetlens.web.similarity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.similarity.Measure;
import dev.unetlens.analysis.similarity.Tokens;
import dev.unetlens.web.ApiError;
import dev.unetlens.web.Json;
import dev.unetlens.web.Lru;
import dev.unetlens.web.Params;
import dev.unetlens.web.features.Float16Frame;
import dev.unetlens.web.runs.Catalog;
import dev.unetlens.web.runs.Manifests;
import dev.unetlens.web.runs.RunsRoot;
import dev.unetlens.web.tensors.TensorReader;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The similarity explorer (Loos &amp; Linhardt's page) over an image dump ({@code extract --images}): a token of
 * image A against every token of A and of B, with the seven measures of {@code analyze similarity}, computed on the
 * server by the same code ({@link Measure#map}) from the maps averaged over the dump's noise draws, as
 * {@code analyze similarity} averages them.
 * <pre>
 *   GET /api/similarity?run&amp;module&amp;a&amp;b&amp;measure&amp;token=ROW,COL   float16 frame: the map over A, then over B
 *   GET /api/similarity/image?run&amp;image=NAME                     the input image, when it lies under --runs
 * </pre>
 */
public final class SimilarityApi {
    private static final int CACHED_MAPS = 8;
    private final RunsRoot root;
    private final Lru<String, Tokens> cache = new Lru<>(CACHED_MAPS);

    private final Manifests manifests;

    public SimilarityApi(RunsRoot root, Manifests manifests) {
        this.root = root;
        this.manifests = manifests;
    }

    public void routes(JavalinConfig c) {
        c.routes.get("/api/similarity", this::similarity);
        c.routes.get("/api/similarity/image", this::image);
    }

    private void similarity(Context ctx) {
        Path dir = root.run(Params.text(ctx, "run"));
        Catalog catalog = manifests.catalog(dir);
        String module = Params.text(ctx, "module");
        String nameA = Params.text(ctx, "a");
        String nameB = Params.text(ctx, "b", nameA);
        Measure measure;
        try {
            measure = Measure.parse(Params.text(ctx, "measure", "cosine"));
        } catch (UnetlensException e) {
            throw ApiError.badParameter("measure", e.getMessage());
        }
        Tokens a = tokens(dir, catalog, module, nameA, "a");
        Tokens b = nameB.equals(nameA) ? a : tokens(dir, catalog, module, nameB, "b");
        int[] token = token(Params.text(ctx, "token"), a);
        long t0 = System.nanoTime();
        int p = token[0] * a.width() + token[1];
        double[] onA = measure.map(a, p, a);
        double[] onB = b == a ? onA : measure.map(a, p, b);
        double ms = (System.nanoTime() - t0) / 1e6;
        float[] values = new float[onA.length + onB.length];
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < values.length; i++) {
            double v = i < onA.length ? onA[i] : onB[i - onA.length];
            values[i] = (float) v;
            if (!Double.isNaN(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        ObjectNode h = Json.object().put("dtype", "float16").put("measure", measure.cliName())
                .put("formula", measure.formula()).put("module", module).put("compute_ms", ms)
                .put("min", lo).put("max", hi);
        h.putArray("token").add(token[0]).add(token[1]);
        h.putObject("a").put("image", nameA).putArray("shape").add(a.height()).add(a.width());
        h.putObject("b").put("image", nameB).putArray("shape").add(b.height()).add(b.width());
        ctx.contentType("application/octet-stream").result(Float16Frame.encode(h, values));
    }

    /** The image's map at module, averaged over the dump's rows (noise draws), as tokens. */
    private Tokens tokens(Path dir, Catalog catalog, String module, String image, String param) {
        Catalog.TensorEntry e = catalog.find(module, 0, image, null);
        if (e == null || !e.isFeatureMap()) {
            throw ApiError.badParameter(param, "this run has no feature map of '" + module + "' for image '" + image + "'");
        }
        Path file = root.file(dir, e.file());
        String key;
        try {
            key = file + "|" + e.entry() + "|" + Files.getLastModifiedTime(file).toMillis();
        } catch (java.io.IOException x) {
            throw ApiError.unreadable("cannot read " + e.file());
        }
        Tokens hit = cache.get(key);
        if (hit != null) {
            return hit;
        }
        long[] s = e.shape();
        int per = Math.toIntExact(s[1] * s[2] * s[3]);
        double[] mean = new double[per];
        for (int r = 0; r < s[0]; r++) {                // one draw at a time: never the whole dump in memory
            float[] row = TensorReader.read(file, e.entry(), s, (long) r * per, per);
            for (int i = 0; i < per; i++) {
                mean[i] += (row[i] - mean[i]) / (r + 1);
            }
        }
        Tokens t = new Tokens(mean, (int) s[1], (int) s[2], (int) s[3]);
        cache.put(key, t);
        return t;
    }

    private static int[] token(String text, Tokens a) {
        String[] rc = text.split(",");
        try {
            if (rc.length == 2) {
                int r = Integer.parseInt(rc[0].strip());
                int c = Integer.parseInt(rc[1].strip());
                if (r >= 0 && r < a.height() && c >= 0 && c < a.width()) {
                    return new int[] {r, c};
                }
            }
        } catch (NumberFormatException ignored) {
            // the message below
        }
        throw ApiError.badParameter("token", "parameter 'token' must be ROW,COL on A's " + a.height() + "×" + a.width()
                + " map, got '" + text + "'");
    }

    /** The dump's input image, if the manifest's request names it and it lies under --runs. */
    private void image(Context ctx) {
        Path dir = root.run(Params.text(ctx, "run"));
        String name = Params.text(ctx, "image");
        JsonNode paths = manifests.manifest(dir).json().path("request").path("images");
        Catalog.TensorEntry e = manifests.catalog(dir).tensors().stream().filter(t -> name.equals(t.image())).findFirst()
                .orElseThrow(() -> ApiError.notFound("this run has no image '" + name + "'"));
        int index = e.info().path("image_index").asInt(-1);
        if (index < 0 || index >= paths.size()) {
            throw ApiError.notFound("the manifest does not say where image '" + name + "' came from");
        }
        Path file = root.underRoot(Path.of(paths.get(index).asText()))
                .orElseThrow(() -> ApiError.notFound("image '" + name + "' lies outside --runs; it is not served"));
        ctx.contentType(file.toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png") ? "image/png"
                : "application/octet-stream");
        try {
            ctx.result(Files.readAllBytes(file));
        } catch (java.io.IOException x) {
            throw ApiError.unreadable("cannot read image '" + name + "'");
        }
    }
}
