package dev.unetlens.viz.attention;

import dev.unetlens.viz.Chart;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.render.Canvas;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

import java.awt.Color;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How much attention each token receives in a cross-attention module at a step: the mean over heads and positions
 * of probs[row, :, :, s], as a bar chart (the start token's "attention sink" shows at once).
 */
public final class TokenMassChart {
    private TokenMassChart() {
    }

    /** tokens: indices to show, in order; empty for the prompt (start through the first end token). */
    public static Chart render(AttentionProbs probs, MapLabel label, List<String> tokenLabels, int row,
                               List<Integer> tokens) {
        List<Integer> shown = tokens.isEmpty() ? Tokens.promptIndices(tokenLabels) : tokens;
        double[] mass = probs.keyMass(row);
        List<String> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (int t : shown) {
            x.add(t + " " + Tokens.display(tokenLabels.get(t)));
            y.add(mass[t]);
        }
        String title = label.module() + (label.stepText().isEmpty() ? "" : " · " + label.stepText());
        int longest = x.stream().mapToInt(s -> Canvas.textWidth(s, Canvas.LABEL)).max().orElse(0);
        int perBar = 56;
        int width = Math.max(Canvas.textWidth(title, Canvas.TITLE) + 120, 120 + perBar * shown.size());
        CategoryChart chart = new CategoryChartBuilder().width(width).height(440).title(title)
                .xAxisTitle("token").yAxisTitle("mean attention probability").build();
        Chart.style(chart.getStyler());
        chart.getStyler().setXAxisLabelRotation(longest > perBar - 8 ? 90 : 0);
        chart.getStyler().setYAxisDecimalPattern("0.00");
        chart.addSeries("attention", x, y).setFillColor(new Color(0x21, 0x91, 0x8C));
        Map<String, Object> fields = new LinkedHashMap<>(label.fields());
        fields.put("row", row);
        fields.put("tokens", shown);
        fields.put("tokenTexts", shown.stream().map(tokenLabels::get).toList());
        fields.put("mass", y);
        return new Chart(chart, "token-attention-mass", label.module() + " · attention per token", fields);
    }
}
