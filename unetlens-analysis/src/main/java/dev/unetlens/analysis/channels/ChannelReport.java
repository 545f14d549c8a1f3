package dev.unetlens.analysis.channels;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.analysis.Charts;
import dev.unetlens.analysis.Outputs;
import dev.unetlens.analysis.Units;
import dev.unetlens.analysis.channels.ChannelMagnitudes.ModuleResult;
import dev.unetlens.analysis.channels.ChannelMagnitudes.Result;
import dev.unetlens.analysis.stats.LogHistogram;
import dev.unetlens.analysis.stats.MagnitudeSummary;
import dev.unetlens.analysis.stats.Maps;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.viz.Chart;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a {@link ChannelMagnitudes} result: {@code results.json}, per module {@code channels/<module>.npy} [T, C]
 * (m_c, float64), the sorted channel curves and the histogram as PNG and SVG, and with a generation the comparison.
 */
public final class ChannelReport {
    private ChannelReport() {
    }

    /** Writes everything; {@code request} (images, model…) goes into results.json beside the options. */
    public static void write(Result r, ObjectNode request, OutputDirectory out) {
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        json.put("analysis", "channels");
        json.put("what", "mean |x| of each channel over positions, noise draws and images (m_c), per module and timestep");
        json.set("request", request(r, request));
        ArrayNode modules = json.putArray("modules");
        for (ModuleResult m : r.modules()) {
            String stem = "channels/" + Outputs.stem(m.module());
            double[][] v = m.meanAbs();
            Outputs.writeNpy(out, stem + ".npy", new long[] {v.length, v[0].length}, flatten(v),
                    m.module() + ": m_c [timesteps, channels], float64");
            sortedChart(r, m).write(out, stem + "_sorted");
            histogramChart(r, m).write(out, stem + "_histogram_t" + r.options().histTimestep());
            if (r.generation() != null) {
                generationChart(r, m).write(out, stem + "_generation");
            }
            modules.add(moduleJson(r, m, stem));
        }
        if (r.generation() != null) {
            json.set("generation", generationJson(r));
        }
        Outputs.writeResults(out, json);
    }

    private static ObjectNode request(Result r, ObjectNode extra) {
        ObjectNode q = r.options().sampling().toJson();
        q.put("hist_timestep", r.options().histTimestep());
        q.put("bins", r.options().bins());
        q.put("images_read", r.images());
        q.setAll(extra);
        return q;
    }

    private static ObjectNode moduleJson(Result r, ModuleResult m, String stem) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("module", m.module());
        o.set("map_shape", Outputs.shapeJson(new long[] {m.shape().channels(), m.shape().height(), m.shape().width()}));
        List<Integer> ts = r.options().sampling().timesteps();
        o.set("timesteps", Outputs.quantity(Units.TIMESTEP, o.arrayNode().addAll(ts.stream().map(o::numberNode).toList())));
        o.set("mean_abs", Outputs.quantity(Units.ACTIVATION, Outputs.array(m.meanAbs())));
        ArrayNode summaries = o.putArray("summary");
        for (int t = 0; t < ts.size(); t++) {
            MagnitudeSummary s = m.summary(t);
            ObjectNode e = summaries.addObject();
            e.put("timestep", ts.get(t));
            e.put("max", s.max());
            e.put("min", s.min());
            e.put("median", s.median());
            e.put("mean", Maps.mean(m.meanAbs()[t]));
            e.put("max_over_min", s.maxOverMin());
            e.put("max_over_median", s.maxOverMedian());
            e.put("channels_for_half", s.channelsForHalf());
            e.put("share_of_channels_for_half", (double) s.channelsForHalf() / s.channels());
        }
        o.set("summary_units", JsonNodeFactory.instance.objectNode().put("max, min, median, mean", Units.ACTIVATION)
                .put("max_over_min, max_over_median", Units.RATIO).put("channels_for_half", Units.CHANNELS));
        LogHistogram h = r.histogram(m);
        ObjectNode hj = o.putObject("histogram");
        hj.put("timestep", r.options().histTimestep());
        hj.set("edges", Outputs.quantity(Units.ACTIVATION, Outputs.array(h.edges())));
        hj.set("counts", Outputs.quantity(Units.CHANNELS, o.arrayNode().addAll(java.util.Arrays.stream(h.counts()).mapToObj(o::numberNode).toList())));
        hj.put("excluded_nonpositive", h.excluded());
        ObjectNode files = o.putObject("files");
        files.put("mean_abs", stem + ".npy");
        files.put("sorted", stem + "_sorted.png");
        files.put("histogram", stem + "_histogram_t" + r.options().histTimestep() + ".png");
        if (r.generation() != null) {
            files.put("generation", stem + "_generation.png");
        }
        return o;
    }

    private static ObjectNode generationJson(Result r) {
        ChannelMagnitudes.Generation g = r.generation();
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.set("request", dev.unetlens.pipeline.RunRecords.request(g.request()));
        o.put("last_step_timestep", g.timestep());
        ObjectNode per = o.putObject("modules");
        for (ModuleResult m : r.modules()) {
            double[] last = g.meanAbs().get(m.module());
            ObjectNode e = per.putObject(m.module());
            e.put("last_step_mean_abs", Maps.mean(last));
            e.set("last_step_channel_mean_abs", Outputs.quantity(Units.ACTIVATION, Outputs.array(last)));
            e.set("extraction_mean_abs", Outputs.quantity(Units.ACTIVATION, Outputs.array(meansOverChannels(m))));
        }
        o.put("unit", Units.ACTIVATION);
        return o;
    }

    /** The notebook's curves: each timestep's m_c sorted from the largest down, against the channel's rank. */
    public static Chart sortedChart(Result r, ModuleResult m) {
        List<Integer> ts = r.options().sampling().timesteps();
        XYChart c = Charts.xy(m.module() + " · channel magnitudes", "channel (sorted by mean |x|, largest first)",
                "mean |x| (activation)", 860, 520);
        int channels = m.meanAbs()[0].length;
        double[] rank = new double[channels];
        for (int i = 0; i < channels; i++) {
            rank[i] = i + 1;
        }
        for (int t = 0; t < ts.size(); t++) {
            XYSeries s = c.addSeries("t = " + ts.get(t), rank, MagnitudeSummary.sortedDescending(m.meanAbs()[t]));
            s.setMarker(SeriesMarkers.NONE);
            s.setLineColor(Charts.sequential(t, ts.size()));
            s.setLineStyle(Charts.THIN);
        }
        if (r.generation() != null) {
            Charts.reference(c.addSeries(lastStepLabel(r), rank, MagnitudeSummary.sortedDescending(r.generation().meanAbs().get(m.module()))));
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("module", m.module());
        fields.put("timesteps", ts);
        return new Chart(c, "channel-magnitudes", m.module() + " · mean |x| per channel, sorted, one line per timestep", fields);
    }

    /** The histogram of the m_c at the histogram timestep, on logarithmic bins and a logarithmic axis. */
    public static Chart histogramChart(Result r, ModuleResult m) {
        LogHistogram h = r.histogram(m);
        int t = r.options().histTimestep();
        XYChart c = Charts.xy(m.module() + " · channel magnitudes at t = " + t, "mean |x| (activation, log scale)",
                "number of channels", 860, 480);
        // x is log10 of the value on a linear axis, labelled with the values: XChart's own log axis labels decades only
        c.getStyler().setXAxisTickLabelsFormattingFunction(v -> dev.unetlens.viz.render.Ticks.compact(Math.pow(10, v)));
        c.getStyler().setXAxisTickMarkSpacingHint(90);
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setYAxisTickLabelsFormattingFunction(Charts::integerOrBlank);
        c.getStyler().setLegendVisible(true);
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        double[] e = h.edges();
        if (Double.isFinite(e[0])) {
            x.add(Math.log10(e[0]));
            y.add(0.0);
            for (int b = 0; b < h.counts().length; b++) {
                x.add(Math.log10(e[b]));
                y.add((double) h.counts()[b]);
                x.add(Math.log10(e[b + 1]));
                y.add((double) h.counts()[b]);
            }
            x.add(Math.log10(e[e.length - 1]));
            y.add(0.0);
        } else {
            x.add(0.0);
            y.add(0.0);
        }
        XYSeries s = c.addSeries(h.counts().length + " log bins, " + m.meanAbs()[0].length + " channels"
                + (h.excluded() > 0 ? " (" + h.excluded() + " ≤ 0 left out)" : ""), x, y);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Area);
        s.setMarker(SeriesMarkers.NONE);
        s.setFillColor(new Color(0x21, 0x91, 0x8C, 200));
        s.setLineColor(new Color(0x15, 0x5E, 0x5B));
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("module", m.module());
        fields.put("timestep", t);
        fields.put("bins", h.counts().length);
        return new Chart(c, "channel-magnitude-histogram", m.module() + " · histogram of mean |x| per channel at t = " + t, fields);
    }

    /** Mean |x| over all channels: extraction from the generated image per timestep, and the last generation step. */
    public static Chart generationChart(Result r, ModuleResult m) {
        List<Integer> ts = r.options().sampling().timesteps();
        XYChart c = Charts.xy(m.module() + " · generation vs extraction", "timestep t of the extraction (DDPM, 0–999)",
                "mean |x| (activation)", 860, 480);
        double[] x = ts.stream().mapToDouble(Integer::doubleValue).toArray();
        XYSeries e = c.addSeries("extraction from the generated image", x, meansOverChannels(m));
        e.setMarker(SeriesMarkers.CIRCLE);
        e.setLineColor(new Color(0x21, 0x91, 0x8C));
        e.setMarkerColor(new Color(0x21, 0x91, 0x8C));
        double last = Maps.mean(r.generation().meanAbs().get(m.module()));
        Charts.reference(c.addSeries(lastStepLabel(r), new double[] {x[0], x[x.length - 1]}, new double[] {last, last}));
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("module", m.module());
        fields.put("timesteps", ts);
        fields.put("lastStepMeanAbs", last);
        return new Chart(c, "channel-magnitudes-generation", m.module() + " · mean |x|, last generation step vs extraction", fields);
    }

    private static String lastStepLabel(Result r) {
        return String.format(Locale.ROOT, "last generation step (t = %.0f)", r.generation().timestep());
    }

    private static double[] meansOverChannels(ModuleResult m) {
        double[] out = new double[m.meanAbs().length];
        for (int t = 0; t < out.length; t++) {
            out[t] = Maps.mean(m.meanAbs()[t]);
        }
        return out;
    }

    private static double[] flatten(double[][] v) {
        double[] out = new double[v.length * v[0].length];
        for (int i = 0; i < v.length; i++) {
            System.arraycopy(v[i], 0, out, i * v[0].length, v[0].length);
        }
        return out;
    }
}
