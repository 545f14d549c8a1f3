package dev.unetlens.viz.colorize;

import java.util.Locale;

/**
 * Dump U-Net's "Value transform": how a feature value becomes the value {@code t} a colour method draws. The
 * output range depends on the transform and, for Linear and Sigmoid, on the {@link ColorMethod}'s
 * {@link ColorMethod.Domain}:
 * <pre>
 *   transform      MAGNITUDE (White/Black)             UNIT (colour maps)       SIGNED (Red/Blue, Custom)
 *   Auto [0,1]     (v−lo)/(hi−lo)                      (same)                   (same)
 *   Auto [-1,1]    2(v−lo)/(hi−lo) − 1                 (same)                   (same)
 *   Linear(a, b)   (|clamp(v,a,b)| − X)/(Y − X)        (clamp(v,a,b)−a)/(b−a)   2(clamp(v,a,b)−a)/(b−a) − 1
 *   Sigmoid(g, o)  |σ(g(v+o)) − ½|·2                   σ(g(v+o))                (σ(g(v+o)) − ½)·2
 * </pre>
 * with lo, hi the smallest and largest finite value of the values scaled together (a tile, or a whole picture),
 * σ(x) = 1/(1+e^−x), Y = max(|a|, |b|), and X = 0 where a and b differ in sign, else min(|a|, |b|). The White/Black
 * and Red/Blue rows of Linear and Sigmoid are Dump U-Net's {@code create_convert_linear_abs},
 * {@code create_convert_linear}, {@code create_convert_sigmoid_abs} and {@code create_convert_sigmoid}; the
 * colour-map row is ours (a colour map reads [0, 1] without folding the sign). Where hi = lo (a constant map), the
 * Auto transforms give 0.
 */
public sealed interface ValueTransform {

    /** Auto [0,1]: min–max to [0, 1]. */
    record Auto01() implements ValueTransform {
    }

    /** Auto [-1,1]: min–max to [−1, 1]. */
    record AutoSigned() implements ValueTransform {
    }

    /** Linear: clamp to [min, max], then linearly to the method's domain. */
    record Linear(double min, double max) implements ValueTransform {
        public Linear {
            if (!(min < max) || !Double.isFinite(min) || !Double.isFinite(max)) {
                throw new IllegalArgumentException("Linear clamp min must be below clamp max, got min " + min
                        + " and max " + max);
            }
        }
    }

    /** Sigmoid of gain·(v + offset), into the method's domain. */
    record Sigmoid(double gain, double offset) implements ValueTransform {
        public Sigmoid {
            if (!Double.isFinite(gain) || !Double.isFinite(offset)) {
                throw new IllegalArgumentException("Sigmoid gain and offset must be finite, got gain " + gain
                        + " and offset " + offset);
            }
        }
    }

    /** Whether the transform needs the values' range (the Auto transforms). */
    default boolean needsRange() {
        return this instanceof Auto01 || this instanceof AutoSigned;
    }

    /**
     * The transformed value of {@code v}; {@code lo} and {@code hi} are the range the Auto transforms scale from
     * (ignored by the others). NaN stays NaN.
     */
    default double apply(double v, ColorMethod.Domain domain, double lo, double hi) {
        return switch (this) {
            case Auto01 a -> hi > lo ? (v - lo) / (hi - lo) : (Double.isNaN(v) ? v : 0.0);
            case AutoSigned a -> hi > lo ? 2 * (v - lo) / (hi - lo) - 1 : (Double.isNaN(v) ? v : 0.0);
            case Linear(double min, double max) -> {
                double c = Math.min(Math.max(v, min), max);
                yield switch (domain) {
                    case MAGNITUDE -> {
                        double x = Math.signum(min) != Math.signum(max) ? 0.0 : Math.min(Math.abs(min), Math.abs(max));
                        double y = Math.max(Math.abs(min), Math.abs(max));
                        yield (Math.abs(c) - x) / (y - x);
                    }
                    case UNIT -> (c - min) / (max - min);
                    case SIGNED -> ((c - min) / (max - min) - 0.5) * 2.0;
                };
            }
            case Sigmoid(double gain, double offset) -> {
                double s = 1.0 / (1.0 + Math.exp(-gain * (v + offset)));
                yield switch (domain) {
                    case MAGNITUDE -> Math.abs(s - 0.5) * 2.0;
                    case UNIT -> s;
                    case SIGNED -> (s - 0.5) * 2.0;
                };
            }
        };
    }

    /** The range of {@link #apply}'s results, {lo, hi}, for drawing a colour bar: [0,1] or [−1,1]. */
    default double[] outputRange(ColorMethod.Domain domain) {
        return switch (this) {
            case Auto01 a -> new double[] {0, 1};
            case AutoSigned a -> new double[] {-1, 1};
            case Linear l -> domain == ColorMethod.Domain.SIGNED ? new double[] {-1, 1} : new double[] {0, 1};
            case Sigmoid s -> domain == ColorMethod.Domain.SIGNED ? new double[] {-1, 1} : new double[] {0, 1};
        };
    }

    /** Dump U-Net's label: {@code Auto [0,1]}, {@code Auto [-1,1]}, {@code Linear(-1, 1)}, {@code Sigmoid(1, 0)}. */
    default String label() {
        return switch (this) {
            case Auto01 a -> "Auto [0,1]";
            case AutoSigned a -> "Auto [-1,1]";
            case Linear(double min, double max) -> "Linear(" + num(min) + ", " + num(max) + ")";
            case Sigmoid(double gain, double offset) -> "Sigmoid(" + num(gain) + ", " + num(offset) + ")";
        };
    }

    /**
     * Parses a label as {@link #label()} writes it, case-insensitive: {@code auto01}/{@code "Auto [0,1]"},
     * {@code auto11}/{@code "Auto [-1,1]"}, {@code linear(MIN,MAX)}, {@code sigmoid(GAIN,OFFSET)}.
     */
    static ValueTransform parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT).replace(" ", "");
        switch (t) {
            case "auto[0,1]", "auto01", "auto" -> {
                return new Auto01();
            }
            case "auto[-1,1]", "auto11", "auto-11" -> {
                return new AutoSigned();
            }
            default -> {
            }
        }
        int open = t.indexOf('(');
        if (open > 0 && t.endsWith(")")) {
            String name = t.substring(0, open);
            String[] args = t.substring(open + 1, t.length() - 1).split(",");
            if (args.length == 2 && (name.equals("linear") || name.equals("sigmoid"))) {
                try {
                    double a = Double.parseDouble(args[0]);
                    double b = Double.parseDouble(args[1]);
                    return name.equals("linear") ? new Linear(a, b) : new Sigmoid(a, b);
                } catch (NumberFormatException e) {
                    // falls through to the message below
                }
            }
        }
        throw new IllegalArgumentException("value transform must be auto01, auto11, linear(MIN,MAX) or "
                + "sigmoid(GAIN,OFFSET), got '" + text + "'");
    }

    private static String num(double x) {
        return x == Math.rint(x) && Math.abs(x) < 1e9 ? Long.toString((long) x) : Double.toString(x);
    }
}
