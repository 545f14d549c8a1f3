package dev.unetlens.viz.schedule;

import dev.unetlens.pipeline.ScheduleTable;
import dev.unetlens.viz.Chart;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.render.Layout;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * A schedule ({@link ScheduleTable}) drawn as the deep dive's scheduler section plots it: the timestep, σ (log axis)
 * and ᾱ of each U-Net evaluation, the executed ones in colour and those img2img skips in grey, and the training
 * schedule ᾱ_t over all training timesteps with the run's timesteps marked.
 */
public final class ScheduleCharts {
    static final int WIDTH = 640;
    static final int HEIGHT = 400;
    private static final Color RUN = new Color(0x1F, 0x77, 0xB4);
    private static final Color SKIPPED = new Color(0xB0, 0xB0, 0xB0);

    private ScheduleCharts() {
    }

    /** The four charts, in order: timesteps, sigmas, alpha-bar per evaluation; the training alpha-bar. */
    public static List<Chart> charts(ScheduleTable s) {
        return List.of(
                perEvaluation(s, "timesteps", "model timestep t", ScheduleTable.Row::timestep, false),
                perEvaluation(s, "sigmas", "σ = √((1 − ᾱ)/ᾱ)", ScheduleTable.Row::sigma, true),
                perEvaluation(s, "alpha-bar", "ᾱ", ScheduleTable.Row::alphaBar, false),
                training(s));
    }

    /** The four charts in one picture, two by two. */
    public static Picture overview(ScheduleTable s, List<Chart> charts) {
        List<Layout.Row> rows = new ArrayList<>();
        for (int i = 0; i < charts.size(); i += 2) {
            List<Layout.Panel> panels = new ArrayList<>();
            for (Chart c : charts.subList(i, Math.min(i + 2, charts.size()))) {
                panels.add(new Layout.Panel(c.image()));
            }
            rows.add(new Layout.Row(null, panels));
        }
        var image = Layout.panels("Schedule · " + s.kind().cliName(), List.of(subtitle(s),
                "blue: evaluations the run executes" + (s.begin() > 0 ? "; grey: skipped by img2img's strength" : "")),
                rows, null);
        return new Picture(image, "schedule", "the schedule: timesteps, σ and ᾱ per U-Net evaluation", fields(s));
    }

    private static String subtitle(ScheduleTable s) {
        String run = Double.isNaN(s.strength()) ? "txt2img" : "img2img strength " + s.strength() + ": starts at evaluation "
                + (s.begin() + 1) + " of " + s.rows().size();
        return s.steps() + " steps · " + s.rows().size() + " U-Net evaluations · " + run + " · σ from "
                + s.sigmaSource() + " · init noise σ " + s.initNoiseSigma();
    }

    private static Chart perEvaluation(ScheduleTable s, String kind, String axis, ToDoubleFunction<ScheduleTable.Row> f,
                                       boolean log) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(axis + " per evaluation")
                .xAxisTitle("U-Net evaluation (from 1)").yAxisTitle(axis).build();
        Chart.style(chart.getStyler());
        chart.getStyler().setXAxisDecimalPattern("0");
        if (log) {
            chart.getStyler().setYAxisLogarithmic(true);
            chart.getStyler().setYAxisLogarithmicDecadeOnly(true);             // minor labels would overlap
        }
        List<ScheduleTable.Row> skipped = s.rows().subList(0, s.begin());
        List<ScheduleTable.Row> run = s.rows().subList(s.begin(), s.rows().size());
        add(chart, "skipped", skipped, f, log, SKIPPED);
        add(chart, "executed", run, f, log, RUN);
        return new Chart(chart, "schedule-" + kind, axis + " of each U-Net evaluation", fields(s));
    }

    private static void add(XYChart chart, String name, List<ScheduleTable.Row> rows, ToDoubleFunction<ScheduleTable.Row> f,
                            boolean log, Color color) {
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (ScheduleTable.Row r : rows) {
            double v = f.applyAsDouble(r);
            if (!log || v > 0 && Double.isFinite(v)) {                       // σ = 0 at the end has no place on a log axis
                x.add(r.index() + 1.0);
                y.add(v);
            }
        }
        if (!x.isEmpty()) {
            XYSeries series = chart.addSeries(name, x, y);
            series.setMarker(SeriesMarkers.CIRCLE);
            series.setMarkerColor(color);
            series.setLineColor(color);
        }
    }

    private static Chart training(ScheduleTable s) {
        float[] a = s.trainingAlphaBar();
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title("training schedule ᾱ_t")
                .xAxisTitle("training timestep t").yAxisTitle("ᾱ_t").build();
        Chart.style(chart.getStyler());
        chart.getStyler().setXAxisDecimalPattern("0");
        chart.getStyler().setXAxisTickMarkSpacingHint(90);                      // a label every ~200 of 1000 timesteps
        double[] x = new double[a.length];
        double[] y = new double[a.length];
        for (int t = 0; t < a.length; t++) {
            x[t] = t;
            y[t] = a[t];
        }
        XYSeries all = chart.addSeries("ᾱ_t", x, y);
        all.setMarker(SeriesMarkers.NONE);
        all.setLineColor(Color.DARK_GRAY);
        List<Double> tx = new ArrayList<>();
        List<Double> ty = new ArrayList<>();
        for (ScheduleTable.Row r : s.executed()) {
            tx.add(r.timestep());
            ty.add(r.alphaBar());
        }
        if (!tx.isEmpty()) {
            XYSeries marks = chart.addSeries("the run's timesteps", tx, ty);
            marks.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            marks.setMarker(SeriesMarkers.CIRCLE);
            marks.setMarkerColor(RUN);
        }
        return new Chart(chart, "schedule-training-alpha-bar", "ᾱ_t over the training timesteps, the run's marked",
                fields(s));
    }

    private static Map<String, Object> fields(ScheduleTable s) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("scheduler", s.kind().cliName());
        f.put("steps", s.steps());
        f.put("begin_index", s.begin());
        return f;
    }
}
