package dev.unetlens.viz.grid;

import dev.unetlens.viz.FeatureMap;
import dev.unetlens.viz.Plane;

import java.util.Locale;

/**
 * A channel-reduced map: one value per position from the C channel values v₁ … v_C there, each an average so
 * that maps of blocks with different C compare, and a map whose every channel is the constant a gives a (or |a|):
 * <pre>
 *   MEAN  (1/C) Σ v_c            the mean (Dump U-Net's average tile)
 *   L1    (1/C) Σ |v_c|          the 1-norm average
 *   L2    sqrt((1/C) Σ v_c²)     the 2-norm average, ‖v‖₂/√C (root mean square)
 * </pre>
 */
public enum Reduction {
    MEAN("mean of v over channels"),
    L1("mean of |v| over channels"),
    L2("RMS of v over channels (‖v‖₂/√C)");

    private final String description;

    Reduction(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }

    /** The name the CLI takes: {@code mean}, {@code l1}, {@code l2}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code mean}, {@code l1}/{@code 1-norm}, {@code l2}/{@code 2-norm}. */
    public static Reduction parse(String text) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "mean" -> MEAN;
            case "l1", "1-norm" -> L1;
            case "l2", "2-norm" -> L2;
            default -> throw new IllegalArgumentException("reduction must be mean, l1 or l2, got '" + text + "'"
                    + (text.strip().equalsIgnoreCase("sum") ? " (the channel sum averaged is 'mean')" : ""));
        };
    }

    /** Whether the reduced values are norms (never negative): l1 and l2. */
    public boolean isNorm() {
        return this != MEAN;
    }

    /** The reduced H×W map of a feature map (in double, then float). */
    public Plane apply(FeatureMap map) {
        int c = map.channels();
        int hw = map.height() * map.width();
        float[] v = map.values();
        double[] acc = new double[hw];
        for (int ch = 0; ch < c; ch++) {
            int base = ch * hw;
            for (int p = 0; p < hw; p++) {
                double x = v[base + p];
                acc[p] += switch (this) {
                    case MEAN -> x;
                    case L1 -> Math.abs(x);
                    case L2 -> x * x;
                };
            }
        }
        float[] out = new float[hw];
        for (int p = 0; p < hw; p++) {
            double mean = acc[p] / c;
            out[p] = (float) (this == L2 ? Math.sqrt(mean) : mean);
        }
        return new Plane(out, map.height(), map.width());
    }
}
