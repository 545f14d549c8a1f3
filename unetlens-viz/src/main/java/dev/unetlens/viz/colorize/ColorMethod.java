package dev.unetlens.viz.colorize;

import dev.unetlens.viz.expr.Expression;

/**
 * How a transformed value {@code t} becomes a colour (R, G, B in [0, 1], clipped): Dump U-Net's "Colorize
 * method"s and our perceptually uniform colour maps.
 * <ul>
 *   <li>{@link WhiteBlack}: grey |t| (|t| large → white).</li>
 *   <li>{@link RedBlue}: (max(t, 0), 0, max(−t, 0)) — t large → red, small → blue, 0 → black.</li>
 *   <li>{@link CustomRgb}: three expressions of v = t give R, G, B.</li>
 *   <li>{@link CustomHsl}: three expressions give H, S, L, converted as Python's
 *       {@code colorsys.hls_to_rgb(h, l, s)} (H wraps modulo 1; S and L are used as given).</li>
 *   <li>{@link Lut}: a {@link Colormap}, reading t over the transform's output range as [0, 1].</li>
 * </ul>
 */
public sealed interface ColorMethod {

    /** The range a method wants Linear and Sigmoid to produce (see {@link ValueTransform}). */
    enum Domain {
        /** [0, 1] from |·|-folding formulas: White/Black. */
        MAGNITUDE,
        /** [0, 1] without folding: colour maps. */
        UNIT,
        /** [−1, 1]: Red/Blue and Custom. */
        SIGNED
    }

    record WhiteBlack() implements ColorMethod {
    }

    record RedBlue() implements ColorMethod {
    }

    record CustomRgb(Expression r, Expression g, Expression b) implements ColorMethod {
        /** Parses the three expressions (an {@link dev.unetlens.viz.expr.ExpressionException} names the column). */
        public static CustomRgb parse(String r, String g, String b) {
            return new CustomRgb(Expression.parse(r), Expression.parse(g), Expression.parse(b));
        }
    }

    record CustomHsl(Expression h, Expression s, Expression l) implements ColorMethod {
        /** Parses the three expressions (an {@link dev.unetlens.viz.expr.ExpressionException} names the column). */
        public static CustomHsl parse(String h, String s, String l) {
            return new CustomHsl(Expression.parse(h), Expression.parse(s), Expression.parse(l));
        }
    }

    record Lut(Colormap map) implements ColorMethod {
    }

    /** The domain this method wants Linear and Sigmoid to map into. */
    default Domain domain() {
        return switch (this) {
            case WhiteBlack w -> Domain.MAGNITUDE;
            case Lut l -> Domain.UNIT;
            case RedBlue r -> Domain.SIGNED;
            case CustomRgb c -> Domain.SIGNED;
            case CustomHsl c -> Domain.SIGNED;
        };
    }

    /**
     * The colour of t as {r, g, b} in [0, 1] before clipping ({@code out} is filled and returned). For {@link Lut},
     * {@code lo} and {@code hi} are the transform's output range, read as [0, 1].
     */
    default double[] color(double t, double lo, double hi, double[] out) {
        switch (this) {
            case WhiteBlack w -> {
                double a = Math.abs(t);
                out[0] = a;
                out[1] = a;
                out[2] = a;
            }
            case RedBlue r -> {
                out[0] = t > 0 ? t : 0;
                out[1] = 0;
                out[2] = t < 0 ? -t : 0;
            }
            case CustomRgb(Expression r, Expression g, Expression b) -> {
                out[0] = r.eval(t);
                out[1] = g.eval(t);
                out[2] = b.eval(t);
            }
            case CustomHsl(Expression h, Expression s, Expression l) -> Hls.toRgb(h.eval(t), l.eval(t), s.eval(t), out);
            case Lut(Colormap map) -> {
                int c = map.rgb(Double.isNaN(t) ? Double.NaN : (t - lo) / (hi - lo));
                out[0] = ((c >> 16) & 0xff) / 255.0;
                out[1] = ((c >> 8) & 0xff) / 255.0;
                out[2] = (c & 0xff) / 255.0;
            }
        }
        return out;
    }

    /** A short label: {@code White/Black}, {@code Red/Blue}, {@code Custom RGB(r; g; b)}, {@code viridis}. */
    default String label() {
        return switch (this) {
            case WhiteBlack w -> "White/Black";
            case RedBlue r -> "Red/Blue";
            case CustomRgb(Expression r, Expression g, Expression b) -> "Custom RGB(" + r + "; " + g + "; " + b + ")";
            case CustomHsl(Expression h, Expression s, Expression l) -> "Custom HSL(" + h + "; " + s + "; " + l + ")";
            case Lut(Colormap map) -> map.name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
