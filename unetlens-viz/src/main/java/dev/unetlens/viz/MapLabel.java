package dev.unetlens.viz;

import dev.unetlens.viz.render.Ticks;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a map came from, for titles and manifests.
 *
 * @param module   the hook point's name, a diffusers path ({@code down_blocks.1.attentions.0}), possibly with
 *                 {@code :internal} ({@code …attn2:probs})
 * @param step     sampling step as users count it (from 1), −1 if not from a sampling loop
 * @param timestep the model timestep of that step, NaN if unknown
 * @param source   which input the map is of, where a run has several ("image cat · noise sample 2 of 8"), or ""
 */
public record MapLabel(String module, int step, double timestep, String source) {
    public MapLabel {
        if (module == null || module.isBlank()) {
            throw new IllegalArgumentException("a map label needs the module's name");
        }
        source = source == null ? "" : source;
    }

    /** A label of a run with one input. */
    public MapLabel(String module, int step, double timestep) {
        this(module, step, timestep, "");
    }

    /** The same map of {@code source}. */
    public MapLabel withSource(String source) {
        return new MapLabel(module, step, timestep, source);
    }

    /** "image cat · step 5 · t = 751": the source, then {@link #stepText()}. */
    public String context() {
        return source.isEmpty() ? stepText() : stepText().isEmpty() ? source : source + " · " + stepText();
    }

    /** A label without a step (a single forward, an image-to-features pass). */
    public static MapLabel of(String module) {
        return new MapLabel(module, -1, Double.NaN);
    }

    /** "step 5 · t = 751", "step 5", "t = 751" or "" by what is known. */
    public String stepText() {
        String s = step >= 0 ? "step " + step : "";
        if (!Double.isNaN(timestep)) {
            s += (s.isEmpty() ? "" : " · ") + "t = " + Ticks.compact(timestep);
        }
        return s;
    }

    /**
     * A file-name stem for pictures of this map: the module with ':' as '.', then "_step007" where the step is
     * known ({@code up_blocks.1.attentions.0.transformer_blocks.0.attn2.probs_step007}).
     */
    public String fileStem() {
        String m = module.replace(':', '.').replace('/', '_');
        return step >= 0 ? m + String.format(java.util.Locale.ROOT, "_step%03d", step) : m;
    }

    /** Manifest fields: module, and step, timestep and source where known. */
    public Map<String, Object> fields() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("module", module);
        if (!source.isEmpty()) {
            f.put("source", source);
        }
        if (step >= 0) {
            f.put("step", step);
        }
        if (!Double.isNaN(timestep)) {
            f.put("timestep", timestep);
        }
        return f;
    }
}
