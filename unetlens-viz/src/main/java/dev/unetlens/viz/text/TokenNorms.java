package dev.unetlens.viz.text;

import dev.unetlens.viz.Chart;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.attention.Tokens;
import dev.unetlens.viz.colorize.Colormap;
import dev.unetlens.viz.render.Canvas;
import dev.unetlens.viz.render.ColorBar;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The norm ‖h‖₂ of each token's state: per state and token as a grid (magma over log₁₀ ‖h‖₂, one scale for the
 * picture, since CLIP's start and end tokens grow far larger than the rest), as lines over the layers (one per token,
 * logarithmic axis), or as bars for a single state.
 */
public final class TokenNorms {
    private static final int CELL = 28;

    private TokenNorms() {
    }

    /** Norms [states][shown tokens]. */
    static double[][] norms(TokenStates s, List<Integer> shown) {
        double[][] out = new double[s.states().size()][shown.size()];
        for (int l = 0; l < out.length; l++) {
            for (int j = 0; j < shown.size(); j++) {
                out[l][j] = s.norm(l, shown.get(j));
            }
        }
        return out;
    }

    /** The grid: rows are states, columns the {@code shown} tokens; {@code title} names the encoder. */
    public static Picture grid(TokenStates s, List<Integer> shown, String title, String context) {
        double[][] norms = norms(s, shown);
        double[][] logs = new double[norms.length][];
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (int l = 0; l < norms.length; l++) {
            logs[l] = new double[norms[l].length];
            for (int j = 0; j < norms[l].length; j++) {
                logs[l][j] = Math.log10(Math.max(norms[l][j], 1e-12));
                lo = Math.min(lo, logs[l][j]);
                hi = Math.max(hi, logs[l][j]);
            }
        }
        double a = lo;
        double b = hi > lo ? hi : lo + 1;
        ColorBar bar = ColorBar.of(a, b, v -> Colormap.MAGMA.rgb((v - a) / (b - a)), "log₁₀ ‖h‖₂");
        List<String> subtitles = List.of(dev.unetlens.viz.render.Text.join(context, s.states().size() + " states × "
                        + shown.size() + " tokens", "width " + s.width()),
                "‖h‖₂ of each token's state · magma over log₁₀ ‖h‖₂, one scale for the picture");
        var image = TokenMatrix.draw(title + " · token norms", subtitles, labels(s, shown), raw(s, shown), s.states(), logs,
                CELL, v -> Colormap.MAGMA.rgb((v - a) / (b - a)), bar);
        Map<String, Object> fields = fields(s, shown);
        fields.put("norms", rows(norms));
        return new Picture(image, "token-norms-grid", title + " · ‖h‖₂ per token and state", fields);
    }

    /** Lines over the states (x: 0 = the first state), one per shown token, norms on a logarithmic axis. */
    public static Chart lines(TokenStates s, List<Integer> shown, String title) {
        double[][] norms = norms(s, shown);
        XYChart chart = new XYChartBuilder().width(Math.max(720, 90 * s.states().size())).height(480)
                .title(title + " · token norms over the layers").xAxisTitle("state (0 = input embeddings)")
                .yAxisTitle("‖h‖₂").build();
        Chart.style(chart.getStyler());
        chart.getStyler().setLegendVisible(true);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmicDecadeOnly(false);                // ticks inside a decade too
        chart.getStyler().setXAxisDecimalPattern("0");
        chart.getStyler().setxAxisTickLabelsFormattingFunction(x -> {
            int l = (int) Math.round(x);
            return l >= 0 && l < s.states().size() && Math.abs(x - l) < 1e-9 ? Integer.toString(l) : "";
        });
        double[] x = new double[s.states().size()];
        for (int l = 0; l < x.length; l++) {
            x[l] = l;
        }
        for (int j = 0; j < shown.size(); j++) {
            double[] y = new double[x.length];
            for (int l = 0; l < x.length; l++) {
                y[l] = Math.max(norms[l][j], 1e-12);
            }
            chart.addSeries(s.label(shown.get(j)), x, y).setMarker(SeriesMarkers.CIRCLE);
        }
        Map<String, Object> fields = fields(s, shown);
        fields.put("norms", rows(norms));
        return new Chart(chart, "token-norms-chart", title + " · ‖h‖₂ per token over the states", fields);
    }

    /** Bars of one state's norms (a dumped layer). */
    public static Chart bars(TokenStates s, int state, List<Integer> shown, String title) {
        List<String> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (int t : shown) {
            x.add(s.label(t));
            y.add(s.norm(state, t));
        }
        int longest = x.stream().mapToInt(v -> Canvas.textWidth(v, Canvas.LABEL)).max().orElse(0);
        int width = Math.max(Canvas.textWidth(title, Canvas.TITLE) + 120, 120 + 56 * shown.size());
        CategoryChart chart = new CategoryChartBuilder().width(width).height(440).title(title)
                .xAxisTitle("token").yAxisTitle("‖h‖₂").build();
        Chart.style(chart.getStyler());
        chart.getStyler().setXAxisLabelRotation(longest > (width - 120) / shown.size() - 12 ? 90 : 0);
        chart.getStyler().setXAxisTickMarkSpacingHint(16);                     // a label under every bar
        chart.addSeries("norm", x, y).setFillColor(new Color(0xB6, 0x36, 0x79));
        Map<String, Object> fields = fields(s, shown);
        fields.put("state", s.states().get(state));
        fields.put("norms", y);
        return new Chart(chart, "token-norms", title + " · ‖h‖₂ per token", fields);
    }

    static List<String> labels(TokenStates s, List<Integer> shown) {
        return shown.stream().map(s::label).toList();
    }

    static List<String> raw(TokenStates s, List<Integer> shown) {
        return shown.stream().map(t -> s.tokens().get(t)).toList();
    }

    static Map<String, Object> fields(TokenStates s, List<Integer> shown) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("tokens", shown);
        f.put("tokenTexts", shown.stream().map(t -> Tokens.display(s.tokens().get(t))).toList());
        f.put("states", s.states());
        f.put("width", s.width());
        return f;
    }

    private static List<List<Double>> rows(double[][] m) {
        List<List<Double>> out = new ArrayList<>();
        for (double[] r : m) {
            List<Double> row = new ArrayList<>();
            for (double v : r) {
                row.add(v);
            }
            out.add(row);
        }
        return out;
    }
}
