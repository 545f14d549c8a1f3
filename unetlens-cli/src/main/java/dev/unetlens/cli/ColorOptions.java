package dev.unetlens.cli;

import dev.unetlens.UnetlensException;
import dev.unetlens.viz.colorize.ColorMethod;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.colorize.Colormap;
import dev.unetlens.viz.colorize.ValueTransform;
import dev.unetlens.viz.grid.AutoScope;
import picocli.CommandLine.Option;

import java.util.Locale;

/** How feature values become colours (Dump U-Net's colorization, and perceptual colour maps). */
public final class ColorOptions {
    @Option(names = "--color", paramLabel = "METHOD", defaultValue = "viridis",
            description = "viridis, magma, white-black (|v| large → white), red-blue (v large → red) or custom"
                    + " (--rgb or --hsl expressions) (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--transform", paramLabel = "T",
            description = "auto01, auto11, linear(MIN,MAX) or sigmoid(GAIN,OFFSET) (default: auto01, auto11 for red-blue).")
    String transform;

    @Option(names = "--rgb", paramLabel = "R;G;B", description = "Custom: expressions of v for red, green, blue, e.g. 'v;abs(v);1-v'.")
    String rgb;

    @Option(names = "--hsl", paramLabel = "H;S;L", description = "Custom: expressions of v for hue, saturation, lightness, e.g. '(2+v)/3;1.0;0.5'.")
    String hsl;

    @Option(names = "--per-tile", description = "Scale each channel tile on its own (Dump U-Net) instead of one scale.")
    boolean perTile;

    Colorizer colorizer() {
        String m = method.toLowerCase(Locale.ROOT);
        ColorMethod cm = switch (m) {
            case "viridis", "magma" -> new ColorMethod.Lut(Colormap.parse(m));
            case "white-black", "whiteblack", "white/black" -> new ColorMethod.WhiteBlack();
            case "red-blue", "redblue", "red/blue" -> new ColorMethod.RedBlue();
            case "custom" -> custom();
            default -> throw new UnetlensException("--color must be viridis, magma, white-black, red-blue or custom, got '" + method + "'");
        };
        String t = transform != null ? transform : m.startsWith("red") ? "auto11" : "auto01";
        try {
            return new Colorizer(ValueTransform.parse(t), cm);
        } catch (IllegalArgumentException e) {
            throw new UnetlensException("--transform: " + e.getMessage());
        }
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
        return rgb != null ? ColorMethod.CustomRgb.parse(e[0], e[1], e[2]) : ColorMethod.CustomHsl.parse(e[0], e[1], e[2]);
    }

    AutoScope scope() {
        return perTile ? AutoScope.TILE : AutoScope.SHARED;
    }
}
