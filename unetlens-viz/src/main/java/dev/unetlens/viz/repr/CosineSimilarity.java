package dev.unetlens.viz.repr;

import dev.unetlens.viz.FeatureFrame;
import dev.unetlens.viz.FeatureMap;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.Plane;
import dev.unetlens.viz.colorize.Colormap;
import dev.unetlens.viz.render.Canvas;
import dev.unetlens.viz.render.ColorBar;
import dev.unetlens.viz.render.Layout;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The representation-similarity explorer of Loos &amp; Linhardt (2025): choose a position, and every position of
 * a map (of the same image, another image, another step) is coloured by the cosine similarity of its feature
 * vector to the chosen one, cos(a, b) = a·b / (‖a‖‖b‖) in [−1, 1] (0 where either vector is zero). Learned
 * positional embeddings show as similarity that follows position rather than content; anomalies as isolated
 * high-similarity spots.
 */
public final class CosineSimilarity {
    static final int DISPLAY = 320;

    private CosineSimilarity() {
    }

    /** cos(query(row, col), target(p)) for every position p of target (same C). */
    public static Plane map(FeatureMap query, int row, int col, FeatureMap target) {
        if (query.channels() != target.channels()) {
            throw new IllegalArgumentException("cosine similarity across " + query.channels() + " and "
                    + target.channels() + " channels");
        }
        if (row < 0 || row >= query.height() || col < 0 || col >= query.width()) {
            throw new IllegalArgumentException("position must be inside the " + query.height() + "×"
                    + query.width() + " map, got (" + row + ", " + col + ")");
        }
        float[] a = query.at(row, col);
        double na = 0;
        for (float x : a) {
            na += (double) x * x;
        }
        na = Math.sqrt(na);
        int hw = target.height() * target.width();
        float[] v = target.values();
        double[] dot = new double[hw];
        double[] nb = new double[hw];
        for (int c = 0; c < a.length; c++) {
            double ac = a[c];
            int base = c * hw;
            for (int p = 0; p < hw; p++) {
                double b = v[base + p];
                dot[p] += ac * b;
                nb[p] += b * b;
            }
        }
        float[] out = new float[hw];
        for (int p = 0; p < hw; p++) {
            double d = na * Math.sqrt(nb[p]);
            out[p] = d > 0 ? (float) Math.max(-1, Math.min(1, dot[p] / d)) : 0f;
        }
        return new Plane(out, target.height(), target.width());
    }

    /**
     * One panel per target, coloured over the fixed range [−1, 1]; the chosen position is marked where the target
     * is the query's own map.
     */
    public static Picture render(FeatureFrame query, int row, int col, List<FeatureFrame> targets, Colormap colormap) {
        List<Layout.Panel> panels = new ArrayList<>();
        for (FeatureFrame t : targets) {
            Plane sim = map(query.map(), row, col, t.map());
            int s = Layout.fit(sim.height(), sim.width(), DISPLAY);
            BufferedImage small = new BufferedImage(sim.width(), sim.height(), BufferedImage.TYPE_INT_RGB);
            float[] v = sim.values();
            for (int p = 0; p < v.length; p++) {
                small.setRGB(p % sim.width(), p / sim.width(), colormap.rgb((v[p] + 1) / 2));
            }
            BufferedImage img = Layout.scaled(small, sim.width() * s, sim.height() * s);
            if (t.label().equals(query.label()) && t.map().height() == query.map().height()
                    && t.map().width() == query.map().width()) {
                try (Canvas c = Canvas.over(img)) {
                    c.marker((int) Math.round((col + 0.5) * s), (int) Math.round((row + 0.5) * s), 6);
                }
            }
            String caption = t.label().stepText();
            panels.add(new Layout.Panel(img, caption.isEmpty() ? t.label().module() : caption));
        }
        MapLabel ql = query.label();
        String first = "cosine similarity to position (" + row + ", " + col + ")"
                + (ql.stepText().isEmpty() ? "" : " at " + ql.stepText()) + " · " + query.map().shapeText();
        ColorBar bar = ColorBar.of(-1, 1, x -> colormap.rgb((x + 1) / 2), "cosine similarity");
        var image = Layout.panels(ql.module(), List.of(first,
                colormap.name().toLowerCase(java.util.Locale.ROOT) + " over the fixed range [−1, 1]"),
                List.of(new Layout.Row(null, panels)), bar);
        Map<String, Object> fields = new LinkedHashMap<>(ql.fields());
        fields.put("position", List.of(row, col));
        fields.put("shape", List.of(query.map().channels(), query.map().height(), query.map().width()));
        fields.put("targets", targets.stream().map(t -> t.label().fields()).toList());
        return new Picture(image, "cosine-similarity", ql.module() + " · " + first, fields);
    }
}
