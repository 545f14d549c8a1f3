package dev.unetlens.viz.colorize;

import dev.unetlens.viz.expr.Expression;
import dev.unetlens.viz.expr.ExpressionException;
import dev.unetlens.viz.grid.Reduction;

import java.util.Locale;

/**
 * A colorization chosen by name, as the CLI's {@code --color}, {@code --transform}, {@code --rgb}, {@code --hsl} and
 * the web explorer's fields of the same names give it. Errors are {@link IllegalArgumentException}s whose message
 * starts with the option it is about ({@code "--transform: …"}), so that a form can show it at its field.
 *
 * @param method    viridis, magma, white-black, red-blue or custom
 * @param transform auto01, auto11, {@code linear(MIN,MAX)}, {@code sigmoid(GAIN,OFFSET)}, or null for the method's
 *                  default (auto11 for red-blue, auto01 for the others)
 * @param rgb       custom: {@code "R;G;B"} expressions of v, or null
 * @param hsl       custom: {@code "H;S;L"} expressions of v, or null
 */
public record ColorChoice(String method, String transform, String rgb, String hsl) {
    /** The names {@link #method} takes. */
    public static final String METHODS = "viridis, magma, white-black, red-blue or custom";

    /** The colours of channel values. */
    public Colorizer colorizer() {
        ColorMethod cm = colorMethod();
        try {
            return new Colorizer(transform != null && !transform.isBlank() ? ValueTransform.parse(transform)
                    : automatic(cm), cm);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--transform: " + e.getMessage(), e);
        }
    }

    /**
     * The colours of a channel-reduced map, scaled to its own range whatever the transform says (a clamp range chosen
     * for channel values would paint the norms, all ≥ 0 and of another size, in one colour): norms (l1, l2) in magma,
     * the mean in the chosen method.
     */
    public Colorizer reducedColorizer(Reduction reduction) {
        if (reduction.isNorm()) {
            return Colorizer.magma();
        }
        ColorMethod cm = colorMethod();
        return new Colorizer(automatic(cm), cm);
    }

    /** auto11 for Red/Blue (signed), auto01 for the others. */
    public static ValueTransform automatic(ColorMethod m) {
        return m instanceof ColorMethod.RedBlue ? new ValueTransform.AutoSigned() : new ValueTransform.Auto01();
    }

    /** The colour method by name. */
    public ColorMethod colorMethod() {
        String m = method == null ? "viridis" : method.strip().toLowerCase(Locale.ROOT);
        return switch (m) {
            case "viridis", "magma" -> new ColorMethod.Lut(Colormap.parse(m));
            case "white-black", "whiteblack", "white/black" -> new ColorMethod.WhiteBlack();
            case "red-blue", "redblue", "red/blue" -> new ColorMethod.RedBlue();
            case "custom" -> custom();
            default -> throw new IllegalArgumentException("--color must be " + METHODS + ", got '" + method + "'");
        };
    }

    private ColorMethod custom() {
        boolean hasRgb = rgb != null && !rgb.isBlank();
        boolean hasHsl = hsl != null && !hsl.isBlank();
        if (hasRgb == hasHsl) {
            throw new IllegalArgumentException("--color custom needs exactly one of --rgb 'R;G;B' or --hsl 'H;S;L'");
        }
        String option = hasRgb ? "--rgb" : "--hsl";
        String[] e = (hasRgb ? rgb : hsl).split(";", -1);
        if (e.length != 3) {
            throw new IllegalArgumentException(option + " takes three expressions separated by ';', got " + e.length);
        }
        for (int i = 0; i < 3; i++) {
            try {
                Expression.parse(e[i]);
            } catch (ExpressionException x) {
                throw new IllegalArgumentException(option + ": expression " + (i + 1) + " of 3 ("
                        + (hasRgb ? "RGB" : "HSL").charAt(i) + "), " + x.getMessage(), x);
            }
        }
        return hasRgb ? ColorMethod.CustomRgb.parse(e[0], e[1], e[2]) : ColorMethod.CustomHsl.parse(e[0], e[1], e[2]);
    }
}
