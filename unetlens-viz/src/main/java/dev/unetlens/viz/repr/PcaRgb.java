package dev.unetlens.viz.repr;

import dev.unetlens.io.RgbImage;
import dev.unetlens.viz.FeatureFrame;
import dev.unetlens.viz.FeatureMap;
import dev.unetlens.viz.Overlay;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.render.Layout;
import dev.unetlens.viz.render.Ticks;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Features as colour: the first three principal components of a module's features become R, G and B. Each
 * component's scores are brought to [0, 1] between their {@code clip} and 1 − {@code clip} quantiles (so a few
 * high-norm outliers do not grey out the rest), over the same set the PCA was fitted on: each image alone, or the
 * whole set at once so that one colour means one direction in feature space in every picture.
 */
public final class PcaRgb {
    static final int DISPLAY = 256;

    private PcaRgb() {
    }

    /** Whether one PCA is fitted over all maps (colours comparable) or one per map. */
    public enum Fit { PER_IMAGE, SHARED }

    /**
     * @param frames  maps of one module (same C), one per image or step
     * @param images  the generated images to show under them (same count), or empty
     * @param fit     per image or shared
     * @param clip    quantile clipped at each end, in [0, 0.25) (0 for min–max)
     */
    public static Picture render(List<FeatureFrame> frames, List<RgbImage> images, Fit fit, double clip) {
        if (frames.isEmpty()) {
            throw new IllegalArgumentException("a PCA picture needs at least one feature map");
        }
        if (!images.isEmpty() && images.size() != frames.size()) {
            throw new IllegalArgumentException("give one image per feature map (" + frames.size() + "), got "
                    + images.size());
        }
        if (!(clip >= 0 && clip < 0.25)) {
            throw new IllegalArgumentException("clip quantile must be in [0, 0.25), got " + clip);
        }
        List<FeatureMap> maps = frames.stream().map(FeatureFrame::map).toList();
        List<float[][]> scores = new ArrayList<>();
        List<double[]> explained = new ArrayList<>();
        List<double[][]> bounds = new ArrayList<>();
        if (fit == Fit.SHARED) {
            Pca pca = Pca.fit(maps, Math.min(3, Math.min(maps.getFirst().channels(), total(maps))));
            List<float[][]> all = maps.stream().map(pca::project).toList();
            double[][] b = bounds(all, clip);
            for (float[][] s : all) {
                scores.add(s);
                bounds.add(b);
            }
            explained.add(pca.explainedRatio());
        } else {
            for (FeatureMap m : maps) {
                Pca pca = Pca.fit(List.of(m), Math.min(3, Math.min(m.channels(), m.height() * m.width())));
                float[][] s = pca.project(m);
                scores.add(s);
                bounds.add(bounds(List.<float[][]>of(s), clip));
                explained.add(pca.explainedRatio());
            }
        }
        List<Layout.Panel> panels = new ArrayList<>();
        List<Layout.Panel> imagePanels = new ArrayList<>();
        for (int i = 0; i < frames.size(); i++) {
            FeatureMap m = maps.get(i);
            BufferedImage rgb = toRgb(scores.get(i), bounds.get(i), m.height(), m.width());
            int s = Layout.fit(m.height(), m.width(), DISPLAY);
            String caption = frames.get(i).label().stepText();
            List<String> lines = new ArrayList<>();
            if (!caption.isEmpty()) {
                lines.add(caption);
            }
            if (fit == Fit.PER_IMAGE) {
                lines.add("explained " + percentages(explained.get(i)));
            }
            panels.add(new Layout.Panel(Layout.scaled(rgb, m.width() * s, m.height() * s), lines));
            if (!images.isEmpty()) {
                imagePanels.add(new Layout.Panel(Overlay.fit(images.get(i).toBufferedImage(),
                        m.width() * s)));
            }
        }
        List<Layout.Row> rows = new ArrayList<>();
        if (frames.size() == 1 && !imagePanels.isEmpty()) {   // one map: PCA and image side by side
            Layout.Panel pca = panels.getFirst();
            List<String> caption = new ArrayList<>(List.of("PCA"));
            caption.addAll(pca.caption());
            rows.add(new Layout.Row(null, List.of(new Layout.Panel(pca.image(), caption),
                    new Layout.Panel(imagePanels.getFirst().image(), "image"))));
        } else {
            rows.add(new Layout.Row(images.isEmpty() ? null : "PCA", panels));
            if (!imagePanels.isEmpty()) {
                rows.add(new Layout.Row("image", imagePanels));
            }
        }
        FeatureMap first = maps.getFirst();
        String module = frames.getFirst().label().module();
        String line1 = "R, G, B = principal components 1, 2, 3 of " + first.channels() + " channels · "
                + (fit == Fit.SHARED ? "one PCA over " + frames.size() + " map" + (frames.size() == 1 ? "" : "s")
                        + " (colours comparable)" : "one PCA per map");
        String line2 = (fit == Fit.SHARED ? "explained variance " + percentages(explained.getFirst()) + " · " : "")
                + (clip > 0 ? "scores clipped to their " + Ticks.compact(100 * clip) + "–"
                + Ticks.compact(100 * (1 - clip)) + "% quantiles" : "scores min–max");
        var image = Layout.panels(module, List.of(line1, line2), rows, null);
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("module", module);
        fields.put("steps", frames.stream().map(f -> f.label().step()).toList());
        fields.put("shape", List.of(first.channels(), first.height(), first.width()));
        fields.put("fit", fit.name().toLowerCase(Locale.ROOT));
        fields.put("clip", clip);
        fields.put("explained", explained.stream().map(e -> Arrays.stream(e).boxed().toList()).toList());
        return new Picture(image, "pca-rgb", module + " · PCA of " + frames.size() + " map(s), "
                + fit.name().toLowerCase(Locale.ROOT), fields);
    }

    /** Scores [3][H·W] to an image: each component through its [lo, hi] to [0, 1] (a missing component is 0). */
    static BufferedImage toRgb(float[][] scores, double[][] bounds, int height, int width) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int p = 0; p < height * width; p++) {
            int rgb = 0;
            for (int c = 0; c < 3; c++) {
                int b = 0;
                if (c < scores.length) {
                    double lo = bounds[c][0];
                    double hi = bounds[c][1];
                    double t = hi > lo ? (scores[c][p] - lo) / (hi - lo) : 0.5;
                    b = (int) Math.round(255 * Math.min(1, Math.max(0, t)));
                }
                rgb = rgb << 8 | b;
            }
            img.setRGB(p % width, p / width, rgb);
        }
        return img;
    }

    /** Per component, the clip and 1 − clip quantiles over every score in the set. */
    static double[][] bounds(List<float[][]> set, double clip) {
        int k = set.getFirst().length;
        double[][] out = new double[k][];
        for (int c = 0; c < k; c++) {
            int n = 0;
            for (float[][] s : set) {
                n += s[c].length;
            }
            float[] all = new float[n];
            int at = 0;
            for (float[][] s : set) {
                System.arraycopy(s[c], 0, all, at, s[c].length);
                at += s[c].length;
            }
            Arrays.sort(all);
            out[c] = new double[] {quantile(all, clip), quantile(all, 1 - clip)};
        }
        return out;
    }

    /** Linear-interpolated quantile of sorted values (numpy's default). */
    static double quantile(float[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int i = (int) Math.floor(pos);
        int j = Math.min(i + 1, sorted.length - 1);
        return sorted[i] + (pos - i) * (sorted[j] - sorted[i]);
    }

    private static int total(List<FeatureMap> maps) {
        return maps.stream().mapToInt(m -> m.height() * m.width()).sum();
    }

    private static String percentages(double[] ratios) {
        List<String> p = new ArrayList<>();
        for (double r : ratios) {
            p.add(String.format(Locale.ROOT, "%.0f%%", 100 * r));
        }
        return String.join(" / ", p);
    }
}
