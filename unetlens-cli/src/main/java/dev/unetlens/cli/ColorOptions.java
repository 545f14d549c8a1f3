package dev.unetlens.cli;

import dev.unetlens.UnetlensException;
import dev.unetlens.viz.colorize.ColorMethod;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.colorize.Colormap;
import dev.unetlens.viz.colorize.ValueTransform;
import dev.unetlens.viz.grid.AutoScope;
import dev.unetlens.viz.grid.Reduction;
import picocli.CommandLine.Option;

import java.util.Locale;

/** How feature values become colours (Dump U-Net's colorization, and perceptual colour maps). */
public final class ColorOptions {
    @Option(names = "--color", paramLabel = "METHOD", defaultValue = "viridis",
            description = "viridis, magma, white-black (|v| large → white), red-blue (v large → red) or custom"
                    + " (--rgb or --hsl expressions) (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--transform", paramLabel = "T",
            description = "How channel values are scaled: auto01, auto11, 'linear(MIN,MAX)' or 'sigmoid(GAIN,OFFSET)' (default:"
                    + " auto01, auto11 for red-blue). Norm and mean maps are scaled to their own range.")
    String transform;

    @Option(names = "--rgb", paramLabel = "R;G;B", description = "Custom: expressions of v for red, green, blue, e.g. 'v;abs(v);1-v'.")
    String rgb;

    @Option(names = "--hsl", paramLabel = "H;S;L", description = "Custom: expressions of v for hue, saturation, lightness, e.g. '(2+v)/3;1.0;0.5'.")
    String hsl;

    @Option(names = "--per-tile", description = "Scale each channel tile on its own (Dump U-Net) instead of one scale.")
    boolean perTile;

    /** The colours of channel values: --color with --transform. */
    Colorizer colorizer() {
        ColorMethod cm = method();
        try {
            return new Colorizer(transform != null ? ValueTransform.parse(transform) : automatic(cm), cm);
        } catch (IllegalArgumentException e) {
            throw new UnetlensException("--transform: " + e.getMessage());
        }
    }

    /**
     * The colours of a channel-reduced map, scaled to its own range whatever --transform says (a clamp range chosen
     * for channel values would paint the norms, all ≥ 0 and of another size, in one colour): norms (l1, l2) in magma,
     * the mean in --color's method.
     */
    Colorizer reducedColorizer(Reduction reduction) {
        if (reduction.isNorm()) {
            return Colorizer.magma();
        }
        ColorMethod cm = method();
        return new Colorizer(automatic(cm), cm);
    }

    /** auto11 for Red/Blue (signed), auto01 for the others. */
    private static ValueTransform automatic(ColorMethod m) {
        return m instanceof ColorMethod.RedBlue ? new ValueTransform.AutoSigned() : new ValueTransform.Auto01();
    }

    private ColorMethod method() {
        String m = method.toLowerCase(Locale.ROOT);
        return switch (m) {
            case "viridis", "magma" -> new ColorMethod.Lut(Colormap.parse(m));
            case "white-black", "whiteblack", "white/black" -> new ColorMethod.WhiteBlack();
            case "red-blue", "redblue", "red/blue" -> new ColorMethod.RedBlue();
            case "custom" -> custom();
            default -> throw new UnetlensException("--color must be viridis, magma, white-black, red-blue or custom, got '" + method + "'");
        };
    }

    private ColorMethod custom() {
        if ((rgb == null) == (hsl == null)) {
            throw new UnetlensException("--color custom needs exactly one of --rgb 'R;G;B' or --hsl 'H;S;L'");
        }
        String[] e = (rgb != null ? rgb : hsl).split(";", -1);
        if (e.length != 3) {
            throw new UnetlensException((rgb != null ? "--rgb" : "--hsl") + " takes three expressions separated by ';', got "
                    + e.length);
        }
        String option = rgb != null ? "--rgb" : "--hsl";
        for (int i = 0; i < 3; i++) {
            try {
                dev.unetlens.viz.expr.Expression.parse(e[i]);
            } catch (dev.unetlens.viz.expr.ExpressionException x) {
                throw new UnetlensException(option + ": expression " + (i + 1) + " of 3 ("
                        + (rgb != null ? "RGB" : "HSL").charAt(i) + "), " + x.getMessage());
            }
        }
        return rgb != null ? ColorMethod.CustomRgb.parse(e[0], e[1], e[2]) : ColorMethod.CustomHsl.parse(e[0], e[1], e[2]);
    }

    AutoScope scope() {
        return perTile ? AutoScope.TILE : AutoScope.SHARED;
    }
}
