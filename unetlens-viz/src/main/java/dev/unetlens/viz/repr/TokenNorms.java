package dev.unetlens.viz.repr;

import dev.unetlens.io.RgbImage;
import dev.unetlens.viz.Chart;
import dev.unetlens.viz.FeatureMap;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Overlay;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.Plane;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.render.ColorBar;
import dev.unetlens.viz.render.Layout;
import dev.unetlens.viz.render.Text;
import dev.unetlens.viz.render.Ticks;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Token norms: the Euclidean norm ‖f(p)‖₂ of every position's feature vector, as a map and as a histogram. The
 * anomalies paper's high-norm artefacts stand out as a few bright 2×2 spots and a far right tail.
 */
public final class TokenNorms {
    static final int DISPLAY = 320;

    private TokenNorms() {
    }

    /** ‖f(p)‖₂ per position. */
    public static Plane map(FeatureMap f) {
        int hw = f.height() * f.width();
        float[] v = f.values();
        double[] acc = new double[hw];
        for (int c = 0; c < f.channels(); c++) {
            int base = c * hw;
            for (int p = 0; p < hw; p++) {
                double x = v[base + p];
                acc[p] += x * x;
            }
        }
        float[] out = new float[hw];
        for (int p = 0; p < hw; p++) {
            out[p] = (float) Math.sqrt(acc[p]);
        }
        return new Plane(out, f.height(), f.width());
    }

    /** The norm map (magma, Auto [0,1] over its range) beside the image (null for none), with the largest norm. */
    public static Picture render(FeatureMap f, MapLabel label, RgbImage image) {
        Plane norms = map(f);
        double[] r = norms.range();
        Colorizer colorizer = Colorizer.magma();
        int s = Layout.fit(norms.height(), norms.width(), DISPLAY);
        BufferedImage img = Layout.scaled(colorizer.image(norms, r[0], r[1]), norms.width() * s, norms.height() * s);
        float[] v = norms.values();
        int argmax = 0;
        for (int p = 1; p < v.length; p++) {
            if (v[p] > v[argmax]) {
                argmax = p;
            }
        }
        float[] sorted = v.clone();
        Arrays.sort(sorted);
        double median = PcaRgb.quantile(sorted, 0.5);
        List<Layout.Panel> panels = new ArrayList<>();
        panels.add(new Layout.Panel(img, "max " + Ticks.compact(r[1]) + " at (" + argmax / norms.width() + ", "
                + argmax % norms.width() + ") · median " + Ticks.compact(median)));
        if (image != null) {
            panels.add(new Layout.Panel(Overlay.fit(image.toBufferedImage(), img.getWidth()), "image"));
        }
        String first = Text.join(label.stepText(), f.shapeText(), "‖f‖₂ over " + f.channels() + " channels");
        ColorBar bar = ColorBar.of(r[0], r[1], x -> colorizer.rgb(x, r[0], r[1]), "‖f‖₂");
        var picture = Layout.panels(label.module(), List.of(first, "magma · Auto [0,1]"),
                List.of(new Layout.Row(null, panels)), bar);
        Map<String, Object> fields = new LinkedHashMap<>(label.fields());
        fields.put("shape", List.of(f.channels(), f.height(), f.width()));
        fields.put("range", List.of(r[0], r[1]));
        fields.put("median", median);
        fields.put("argmax", List.of(argmax / norms.width(), argmax % norms.width()));
        return new Picture(picture, "token-norms", label.module() + " · " + first, fields);
    }

    /**
     * The histogram of the norms over {@code bins} equal bins from the smallest to the largest, counts on a
     * logarithmic axis so a handful of anomalous positions stays visible beside thousands of ordinary ones.
     */
    public static Chart histogram(FeatureMap f, MapLabel label, int bins) {
        if (bins < 2) {
            throw new IllegalArgumentException("a histogram needs at least 2 bins, got " + bins);
        }
        Plane norms = map(f);
        double[] r = norms.range();
        double width = r[1] > r[0] ? (r[1] - r[0]) / bins : 1;
        long[] counts = new long[bins];
        for (float x : norms.values()) {
            int b = (int) Math.min(bins - 1, Math.floor((x - r[0]) / width));
            counts[Math.max(0, b)]++;
        }
        List<String> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        int every = Math.max(1, bins / 10);
        for (int b = 0; b < bins; b++) {
            x.add(b % every == 0 ? Ticks.compact(r[0] + (b + 0.5) * width) : " ".repeat(b % every));
            y.add(counts[b] == 0 ? Double.NaN : (double) counts[b]);
        }
        CategoryChart chart = new CategoryChartBuilder().width(720).height(400)
                .title(label.module() + (label.stepText().isEmpty() ? "" : " · " + label.stepText())
                        + " · token norms")
                .xAxisTitle("‖f‖₂ (bin centre)").yAxisTitle("positions").build();
        Chart.style(chart.getStyler());
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setYAxisMin(0.8);   // bars start below 1, the smallest count
        chart.getStyler().setAvailableSpaceFill(0.95);
        chart.getStyler().setXAxisLabelRotation(0);
        chart.addSeries("positions", x, y).setFillColor(new Color(0xB6, 0x36, 0x79));
        Map<String, Object> fields = new LinkedHashMap<>(label.fields());
        fields.put("shape", List.of(f.channels(), f.height(), f.width()));
        fields.put("binEdges", List.of(r[0], r[1]));
        fields.put("counts", Arrays.stream(counts).boxed().toList());
        return new Chart(chart, "token-norm-histogram", label.module() + " · token-norm histogram", fields);
    }
}
