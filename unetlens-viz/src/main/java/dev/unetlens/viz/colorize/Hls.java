package dev.unetlens.viz.colorize;

/** Python's {@code colorsys.hls_to_rgb}, line for line, for Dump U-Net's Custom HSL colorization. */
final class Hls {
    private static final double ONE_THIRD = 1.0 / 3.0;
    private static final double ONE_SIXTH = 1.0 / 6.0;
    private static final double TWO_THIRD = 2.0 / 3.0;

    private Hls() {
    }

    /** (h, l, s) → {r, g, b} in {@code out}. */
    static void toRgb(double h, double l, double s, double[] out) {
        if (s == 0.0) {
            out[0] = l;
            out[1] = l;
            out[2] = l;
            return;
        }
        double m2 = l <= 0.5 ? l * (1.0 + s) : l + s - (l * s);
        double m1 = 2.0 * l - m2;
        out[0] = v(m1, m2, h + ONE_THIRD);
        out[1] = v(m1, m2, h);
        out[2] = v(m1, m2, h - ONE_THIRD);
    }

    private static double v(double m1, double m2, double hue) {
        hue = pyMod1(hue);
        if (hue < ONE_SIXTH) {
            return m1 + (m2 - m1) * hue * 6.0;
        }
        if (hue < 0.5) {
            return m2;
        }
        if (hue < TWO_THIRD) {
            return m1 + (m2 - m1) * (TWO_THIRD - hue) * 6.0;
        }
        return m1;
    }

    /** Python's {@code x % 1.0}: the result has the sign of the divisor, so it is in [0, 1). */
    private static double pyMod1(double x) {
        double r = x % 1.0;
        if (r < 0) {
            r += 1.0;
        }
        return r == 1.0 ? 0.0 : r;
    }
}
