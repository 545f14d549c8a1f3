package dev.unetlens.viz.attention;

import dev.unetlens.io.RgbImage;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Overlay;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.Plane;
import dev.unetlens.viz.Resample;
import dev.unetlens.viz.colorize.Colormap;
import dev.unetlens.viz.render.Canvas;
import dev.unetlens.viz.render.ColorBar;
import dev.unetlens.viz.render.Layout;
import dev.unetlens.viz.render.Text;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where one position looks in a self-attention: the row probs[row, heads, q, :] of query q = (qRow, qCol) as a map
 * over all positions of the block (mean over the chosen heads), drawn as blocks, and over the image (bicubic to the
 * image size, clamped at 0, opacity = value / max); the query is marked in both.
 */
public final class SelfAttentionMap {
    static final int DISPLAY = 320;

    private SelfAttentionMap() {
    }

    /**
     * @param image  the generated image, or null for the map alone
     * @param heads  heads to average; empty for all
     */
    public static Picture render(RgbImage image, AttentionProbs probs, MapLabel label, int row, List<Integer> heads,
                                 int qRow, int qCol, Colormap colormap) {
        int[] hs = heads.isEmpty() ? probs.allHeads() : heads.stream().mapToInt(Integer::intValue).toArray();
        return render(image, probs.selfMap(row, hs, qRow, qCol), label, row, hs, probs.heads(), qRow, qCol, colormap);
    }

    /**
     * The same picture from a query's map already averaged over {@code heads} (of {@code totalHeads}): for callers
     * that read only the query's rows of a large dump ({@link AttentionProbs#selfMap} computes it from all of them).
     */
    public static Picture render(RgbImage image, Plane map, MapLabel label, int row, int[] heads, int totalHeads,
                                 int qRow, int qCol, Colormap colormap) {
        int[] hs = heads.clone();
        if (qRow < 0 || qRow >= map.height() || qCol < 0 || qCol >= map.width()) {
            throw new IllegalArgumentException("query position must be inside the " + map.height() + "×" + map.width()
                    + " map, got (" + qRow + ", " + qCol + ")");
        }
        double[] r = map.range();
        double lo = 0;
        double hi = r[1] > 0 ? r[1] : 1;
        int s = Layout.fit(map.height(), map.width(), DISPLAY);
        int w = map.width() * s;
        int h = map.height() * s;
        BufferedImage blocks = new BufferedImage(map.width(), map.height(), BufferedImage.TYPE_INT_RGB);
        float[] v = map.values();
        for (int p = 0; p < v.length; p++) {
            blocks.setRGB(p % map.width(), p / map.width(), colormap.rgb((v[p] - lo) / (hi - lo)));
        }
        BufferedImage left = Layout.scaled(blocks, w, h);
        mark(left, (qCol + 0.5) * s, (qRow + 0.5) * s);
        List<Layout.Panel> panels = new ArrayList<>();
        panels.add(new Layout.Panel(left, "block map " + map.height() + "×" + map.width()));
        if (image != null) {
            float[] up = Resample.bicubic(v, map.height(), map.width(), image.height(), image.width());
            for (int i = 0; i < up.length; i++) {
                up[i] = (float) (Math.max(up[i], 0) / hi);
            }
            BufferedImage over = Overlay.fit(Overlay.composite(image, new Plane(up, image.height(), image.width()),
                    colormap), DISPLAY);
            mark(over, (qCol + 0.5) * over.getWidth() / map.width(), (qRow + 0.5) * over.getHeight() / map.height());
            panels.add(new Layout.Panel(over, "over the image"));
        }
        String headText = hs.length == totalHeads ? "mean of " + hs.length + " heads"
                : hs.length == 1 ? "head " + hs[0] : "mean of heads " + java.util.Arrays.toString(hs);
        String first = Text.join(label.stepText(), "query (" + qRow + ", " + qCol + ")", headText,
                "batch row " + row);
        ColorBar bar = ColorBar.of(lo, hi, x -> colormap.rgb((x - lo) / (hi - lo)), "probability");
        var picture = Layout.panels(label.module(), List.of(first,
                colormap.name().toLowerCase(java.util.Locale.ROOT) + " from 0 to the largest probability"),
                List.of(new Layout.Row(null, panels)), bar);
        Map<String, Object> fields = new LinkedHashMap<>(label.fields());
        fields.put("query", List.of(qRow, qCol));
        fields.put("map", List.of(map.height(), map.width()));
        fields.put("heads", java.util.Arrays.stream(hs).boxed().toList());
        fields.put("row", row);
        fields.put("max", hi);
        return new Picture(picture, "self-attention", label.module() + " · " + first, fields);
    }

    private static void mark(BufferedImage img, double x, double y) {
        try (Canvas onto = Canvas.over(img)) {
            onto.marker((int) Math.round(x), (int) Math.round(y), 6);
        }
    }
}
