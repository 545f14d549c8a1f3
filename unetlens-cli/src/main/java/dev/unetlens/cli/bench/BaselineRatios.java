package dev.unetlens.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Locale;

/**
 * A bench result set beside every {@link Baseline}: each baseline's time and peak RSS with our ratio to it
 * ({@code baselines}), and the ratios that the targets are about ({@code vs_faster}): time against the faster torch,
 * peak RSS against the lower one. Issue 24's targets: the U-Net ≤ 0.6× the faster torch's time, every other case
 * ≤ 1×; peak RSS ≤ the lower torch's.
 */
public final class BaselineRatios {
    /** U-Net time target against the faster baseline. */
    public static final double UNET_TARGET = 0.6;

    private BaselineRatios() {
    }

    /**
     * Adds {@code baselines} and {@code vs_faster} to result {@code r} of case {@code c}; returns the progress line,
     * or null where no baseline has the case. A baseline measured on another model (other parameters or output shape)
     * is listed with {@code comparable: false} and its reason, and left out of the ratios.
     */
    public static String compare(ObjectNode r, BenchCase c, List<Baseline> baselines) {
        double median = r.path("median_s").asDouble();
        double rss = r.path("peak_rss_mb").asDouble();
        ArrayNode list = r.putArray("baselines");
        ObjectNode fastest = null;
        ObjectNode leanest = null;
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s: median %.2f s", c.name(), median));
        for (Baseline b : baselines) {
            JsonNode ref = c.reference(b.file(), r);
            if (ref == null || ref.isMissingNode() || !ref.has("median_s")) {
                continue;
            }
            ObjectNode e = list.addObject();
            e.put("label", b.label());
            String different = different(r, ref);
            if (different != null) {
                e.put("comparable", false);
                e.put("why", different);
                line.append("; not compared with ").append(b.label()).append(": ").append(different);
                continue;
            }
            if (ref.has("rule")) {
                e.put("rule", ref.path("rule").asText());
            }
            double time = ref.path("median_s").asDouble();
            e.put("median_s", time);
            e.put("time_ratio", median / time);
            line.append(String.format(Locale.ROOT, "; %s %.2f s (%.2f×)", b.label(), time, median / time));
            if (ref.has("peak_rss_mb")) {
                e.put("peak_rss_mb", ref.path("peak_rss_mb").asDouble());
                e.put("rss_ratio", rss / ref.path("peak_rss_mb").asDouble());
                if (leanest == null || ref.path("peak_rss_mb").asDouble() < leanest.path("peak_rss_mb").asDouble()) {
                    leanest = e;
                }
            }
            if (fastest == null || time < fastest.path("median_s").asDouble()) {
                fastest = e;
            }
        }
        if (fastest == null) {
            return list.isEmpty() ? null : line.toString();
        }
        double target = c.timeTarget();
        ObjectNode v = r.putObject("vs_faster");
        v.put("baseline", fastest.path("label").asText());
        v.put("median_s", fastest.path("time_ratio").asDouble());
        v.put("time_target", target);
        boolean meets = fastest.path("time_ratio").asDouble() <= target;
        line.append(String.format(Locale.ROOT, "; vs the faster %.2f× (target ≤ %.1f×)", fastest.path("time_ratio").asDouble(), target));
        if (leanest != null) {
            v.put("rss_baseline", leanest.path("label").asText());
            v.put("peak_rss_mb", leanest.path("rss_ratio").asDouble());
            meets &= leanest.path("rss_ratio").asDouble() <= 1;
            line.append(String.format(Locale.ROOT, ", peak RSS %.0f MB (%.2f× the lower, %s)", rss,
                    leanest.path("rss_ratio").asDouble(), leanest.path("label").asText()));
        }
        v.put("meets_targets", meets);
        if (r.has("gflops")) {
            line.append(String.format(Locale.ROOT, ", %.1f GFLOP/s", r.path("gflops").asDouble()));
        }
        return line.toString();
    }

    /**
     * Why a result cannot be held against a baseline's figures (another model than the full-size one the case
     * names: other parameter count or output shape), or null when it can.
     */
    public static String different(JsonNode result, JsonNode ref) {
        if (ref.has("params") && result.has("params") && ref.path("params").asLong() != result.path("params").asLong()) {
            return String.format(Locale.ROOT, "this model has %,d parameters, the reference's %,d (the targets are for"
                    + " the full-size models)", result.path("params").asLong(), ref.path("params").asLong());
        }
        if (ref.has("out_shape") && result.has("out_shape") && !ref.path("out_shape").equals(result.path("out_shape"))) {
            return "the output shape " + result.path("out_shape") + " is not the reference's " + ref.path("out_shape");
        }
        return null;
    }

    /**
     * The results as a Markdown table, one column per baseline: {@code | case | unetlens | torch 1.13.1 | torch 2.6.0
     * + SDPA | ratio to the faster |}, each cell time and peak RSS.
     */
    public static String table(JsonNode cases, List<Baseline> baselines) {
        StringBuilder t = new StringBuilder("| case | unetlens |");
        StringBuilder rule = new StringBuilder("|---|---|");
        for (Baseline b : baselines) {
            t.append(' ').append(b.label()).append(" |");
            rule.append("---|");
        }
        t.append(" ratio to the faster (RSS to the lower) |\n").append(rule).append("---|\n");
        for (JsonNode r : cases) {
            if (r.has("error")) {
                continue;
            }
            List<String> variant = new java.util.ArrayList<>();              // named where not the default
            String kernel = r.path("attention").asText("explicit");            // (results before sdpa was: explicit)
            if (!kernel.equals("sdpa")) {
                variant.add(kernel);
            }
            if (r.path("mkl").asText("default").equals("avx512")) {
                variant.add("mkl avx512");
            }
            t.append("| ").append(r.path("case").asText()).append(variant.isEmpty() ? "" : " (" + String.join(", ", variant) + ")")
                    .append(" | ").append(cell(r)).append(" |");
            for (Baseline b : baselines) {
                JsonNode e = entry(r, b.label());
                t.append(' ').append(e == null || !e.has("median_s") ? "—" : cell(e)).append(" |");
            }
            JsonNode v = r.path("vs_faster");
            t.append(v.isMissingNode() ? " —" : String.format(Locale.ROOT, " %.2f×%s%s", v.path("median_s").asDouble(),
                    v.has("peak_rss_mb") ? String.format(Locale.ROOT, " (RSS %.2f×)", v.path("peak_rss_mb").asDouble()) : "",
                    v.path("meets_targets").asBoolean() ? "" : " ✗")).append(" |\n");
        }
        return t.toString();
    }

    private static JsonNode entry(JsonNode r, String label) {
        for (JsonNode e : r.path("baselines")) {
            if (label.equals(e.path("label").asText())) {
                return e;
            }
        }
        return null;
    }

    private static String cell(JsonNode e) {
        return e.has("peak_rss_mb")
                ? String.format(Locale.ROOT, "%.2f s, %.0f MB", e.path("median_s").asDouble(), e.path("peak_rss_mb").asDouble())
                : String.format(Locale.ROOT, "%.2f s", e.path("median_s").asDouble());
    }
}
