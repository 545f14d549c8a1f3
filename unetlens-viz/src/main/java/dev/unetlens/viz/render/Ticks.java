package dev.unetlens.viz.render;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Axis ticks at "nice" numbers (1, 2, 2.5 or 5 times a power of ten) inside a range, with labels that show
 * as many decimals as the step needs — Heckbert's "nice numbers for graph labels" (Graphics Gems, 1990).
 */
public final class Ticks {
    private Ticks() {
    }

    /** A tick: its value and its label. */
    public record Tick(double value, String label) {
    }

    /** About {@code target} ticks in [lo, hi] (both ends inclusive when they fall on a tick); none if lo ≥ hi. */
    public static List<Tick> of(double lo, double hi, int target) {
        List<Tick> out = new ArrayList<>();
        if (!(hi > lo) || !Double.isFinite(lo) || !Double.isFinite(hi)) {
            if (Double.isFinite(lo)) {
                out.add(new Tick(lo, format(lo, Math.max(Math.abs(lo), 1e-12))));
            }
            return out;
        }
        double step = niceStep((hi - lo) / Math.max(1, target - 1));
        double first = Math.ceil(lo / step - 1e-9) * step;
        for (int i = 0; ; i++) {
            double v = first + i * step;
            if (v > hi + step * 1e-9) {
                break;
            }
            if (Math.abs(v) < step * 1e-9) {
                v = 0.0;   // no "-0" or 1e-17 at zero
            }
            out.add(new Tick(v, format(v, step)));
        }
        return out;
    }

    /** The nice step nearest above {@code raw}: 1, 2, 2.5, 5 × 10^k. */
    static double niceStep(double raw) {
        double exp = Math.floor(Math.log10(raw));
        double base = Math.pow(10, exp);
        double f = raw / base;
        double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
        return nice * base;
    }

    /** A value with the decimals a step of {@code step} needs; scientific notation for very large or small. */
    public static String format(double v, double step) {
        if (v == 0) {
            return "0";
        }
        double a = Math.abs(v);
        if (a >= 1e5 || a < 1e-3 && step < 1e-3) {
            return minus(String.format(Locale.ROOT, "%.2e", v).replace("e+0", "e").replace("e-0", "e-"));
        }
        int decimals = Math.max(0, (int) Math.ceil(-Math.log10(step) - 1e-9));
        if (step * Math.pow(10, decimals) % 1 > 1e-6) {
            decimals++;   // 2.5 × 10^k needs one more
        }
        return minus(new BigDecimal(v).setScale(Math.min(decimals, 6), java.math.RoundingMode.HALF_EVEN)
                .stripTrailingZeros().toPlainString());
    }

    /** A short value for captions: 3 significant digits. */
    public static String compact(double v) {
        if (!Double.isFinite(v)) {
            return Double.toString(v);
        }
        if (v == 0) {
            return "0";
        }
        double a = Math.abs(v);
        if (a >= 1e5 || a < 1e-3) {
            return minus(String.format(Locale.ROOT, "%.2e", v).replace("e+0", "e").replace("e-0", "e-"));
        }
        return minus(new BigDecimal(v).round(new java.math.MathContext(3)).stripTrailingZeros().toPlainString());
    }

    /** A leading hyphen as the typographic minus sign (U+2212), as matplotlib labels axes. */
    static String minus(String s) {
        return s.startsWith("-") ? "\u2212" + s.substring(1) : s;
    }
}
