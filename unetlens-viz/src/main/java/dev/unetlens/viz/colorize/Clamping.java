package dev.unetlens.viz.colorize;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Arrays;

/**
 * How much of a picture a {@link ValueTransform.Linear} transform clamps: every value outside [min, max] takes the
 * colour of the nearer end, so a range much narrower than the data draws a picture of one or two colours. The
 * other transforms clamp nothing.
 *
 * @param fraction  the share of the finite values outside [min, max] (0 for the other transforms)
 * @param suggested B such that linear(−B, B) holds 99 % of the values, rounded up to two significant digits; NaN
 *                  when nothing is clamped or there are no finite values
 */
public record Clamping(double fraction, double suggested) {
    /** Above this share the picture shows next to nothing, and the CLI warns. */
    public static final double MOSTLY = 0.95;
    private static final Clamping NONE = new Clamping(0, Double.NaN);

    /** The clamping of {@code values} under {@code transform}. */
    public static Clamping of(ValueTransform transform, float[] values) {
        if (!(transform instanceof ValueTransform.Linear(double min, double max))) {
            return NONE;
        }
        float[] abs = new float[values.length];
        int n = 0;
        int outside = 0;
        for (float v : values) {
            if (Float.isFinite(v)) {
                abs[n++] = Math.abs(v);
                if (v < min || v > max) {
                    outside++;
                }
            }
        }
        if (n == 0 || outside == 0) {
            return NONE;
        }
        Arrays.sort(abs, 0, n);
        double p99 = abs[Math.min(n - 1, (int) Math.ceil(0.99 * n) - 1)];
        return new Clamping((double) outside / n, roundUp(p99));
    }

    /** Whether more than {@value #MOSTLY} of the values are clamped. */
    public boolean mostly() {
        return fraction > MOSTLY;
    }

    /** A bound as the CLI takes it: 79, 0.032, 1200. */
    public static String format(double b) {
        return new BigDecimal(b).round(new MathContext(2, RoundingMode.HALF_UP)).stripTrailingZeros().toPlainString();
    }

    /** x rounded up to two significant digits (78.4 → 79, 0.0312 → 0.032); 0 stays 0. */
    static double roundUp(double x) {
        if (!(x > 0)) {
            return x;
        }
        return new BigDecimal(x).round(new MathContext(2, RoundingMode.CEILING)).doubleValue();
    }
}
