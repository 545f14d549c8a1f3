package dev.unetlens.viz.attention;

import dev.unetlens.viz.Plane;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Aggregated cross-attention heat maps, one per prompt token, at the latent size: what DAAM's
 * {@code compute_global_heat_map} returns.
 *
 * @param values  [K, H, W] row-major: K tokens (start and end token included), latent H×W
 * @param tokens  K
 * @param height  latent H
 * @param width   latent W
 * @param normalized whether each position's values were divided by the sum over the content tokens
 * @param sources what went in: modules, heads, maps per module (for manifests)
 */
public record HeatMaps(float[] values, int tokens, int height, int width, boolean normalized,
                       Map<String, Object> sources) {
    public HeatMaps {
        if (values.length != (long) tokens * height * width) {
            throw new IllegalArgumentException("heat maps [" + tokens + ", " + height + ", " + width + "] need "
                    + (long) tokens * height * width + " values, got " + values.length);
        }
        values = values.clone();
        sources = Map.copyOf(sources);
    }

    /** Token t's map. */
    public Plane token(int t) {
        if (t < 0 || t >= tokens) {
            throw new IllegalArgumentException("token must be in [0, " + (tokens - 1) + "], got " + t);
        }
        int hw = height * width;
        return new Plane(Arrays.copyOfRange(values, t * hw, (t + 1) * hw), height, width);
    }

    /**
     * A word's map: the mean of its tokens' maps (DAAM's {@code compute_word_heat_map}, {@code heat_maps[merge_idxs]
     * .mean(0)}); indices as {@link Tokens#indicesOf} finds them.
     */
    public Plane word(List<Integer> tokenIndices) {
        if (tokenIndices.isEmpty()) {
            throw new IllegalArgumentException("a word heat map needs at least one token index");
        }
        int hw = height * width;
        double[] acc = new double[hw];
        for (int t : tokenIndices) {
            float[] m = token(t).values();
            for (int p = 0; p < hw; p++) {
                acc[p] += m[p];
            }
        }
        float[] out = new float[hw];
        for (int p = 0; p < hw; p++) {
            out[p] = (float) (acc[p] / tokenIndices.size());
        }
        return new Plane(out, height, width);
    }

    @Override
    public float[] values() {
        return values.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HeatMaps h && tokens == h.tokens && height == h.height && width == h.width
                && normalized == h.normalized && Arrays.equals(values, h.values) && sources.equals(h.sources);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values) * 31 + sources.hashCode();
    }
}
