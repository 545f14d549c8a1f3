package dev.unetlens.web.labels;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.analysis.paper.AnomalyDetector;
import dev.unetlens.analysis.paper.NormMap;
import dev.unetlens.web.ApiError;
import dev.unetlens.web.Json;
import dev.unetlens.web.Params;
import dev.unetlens.web.runs.Catalog;
import dev.unetlens.web.runs.Manifests;
import dev.unetlens.web.runs.RunsRoot;
import dev.unetlens.web.tensors.TensorReader;
import io.javalin.http.Context;

import java.nio.file.Path;

/**
 * The detector's candidates for the labeler: {@code analyze anomalies}' {@link AnomalyDetector} (tokens above the
 * map's median + k · 1.4826 · MAD, grouped in 8-connected patches) on the norm map the page shows — the L2 norm over
 * channels of {@code module} for {@code image}, noise sample {@code row} (default 0). Each candidate carries the label
 * one click would make of it: the patch's upper-left token, kept inside the map as a 2×2 label must be.
 * <pre>
 *   GET /api/labels/candidates?run&amp;module&amp;image&amp;row&amp;k   {"k", "threshold", "candidates": [{x, y, row, col,
 *                                                           rows, cols, tokens, ratio, peak}]}
 * </pre>
 */
final class Candidates {
    private Candidates() {
    }

    static void send(RunsRoot root, Manifests manifests, Context ctx) {
        Path dir = root.run(Params.text(ctx, "run"));
        String module = Params.text(ctx, "module");
        String image = Params.text(ctx, "image");
        Catalog.TensorEntry e = manifests.catalog(dir).find(module, 0, image, null);
        if (e == null || !e.isFeatureMap()) {
            throw ApiError.notFound("this run has no feature map of '" + module + "' for image '" + image + "'");
        }
        int row = Params.integer(ctx, "row", 0, Math.toIntExact(e.shape()[0] - 1), 0);
        double k = number(ctx);
        int c = Math.toIntExact(e.shape()[1]);
        int h = Math.toIntExact(e.shape()[2]);
        int w = Math.toIntExact(e.shape()[3]);
        long per = (long) c * h * w;
        float[] map = TensorReader.read(root.file(dir, e.file()), e.entry(), e.shape(), row * per, per);
        NormMap norms = NormMap.of(map, 0, c, h, w);
        ObjectNode out = Json.object().put("k", k).put("threshold", AnomalyDetector.threshold(norms, k));
        var list = out.putArray("candidates");
        for (AnomalyDetector.Patch p : AnomalyDetector.detect(norms, k)) {
            list.addObject().put("x", Math.max(0, Math.min(p.col(), w - 2))).put("y", Math.max(0, Math.min(p.row(), h - 2)))
                    .put("row", p.row()).put("col", p.col()).put("rows", p.rows()).put("cols", p.cols())
                    .put("tokens", p.tokens()).put("ratio", p.ratio()).put("peak", p.peak());
        }
        Json.send(ctx, out);
    }

    /** k, default {@link AnomalyDetector#DEFAULT_K}: a finite number in (0, 100]. */
    private static double number(Context ctx) {
        String v = Params.text(ctx, "k", null);
        if (v == null) {
            return AnomalyDetector.DEFAULT_K;
        }
        try {
            double k = Double.parseDouble(v);
            if (k > 0 && k <= 100) {
                return k;
            }
        } catch (NumberFormatException ignored) {
            // answered below
        }
        throw ApiError.badParameter("k", "parameter 'k' (robust standard deviations above the median) must be a"
                + " number in (0, 100], got '" + v + "'");
    }
}
