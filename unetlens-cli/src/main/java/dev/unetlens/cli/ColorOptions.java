package dev.unetlens.cli;

import dev.unetlens.UnetlensException;
import dev.unetlens.viz.colorize.ColorChoice;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.grid.AutoScope;
import dev.unetlens.viz.grid.Reduction;
import picocli.CommandLine.Option;

/** How feature values become colours (Dump U-Net's colorization, and perceptual colour maps): {@link ColorChoice}. */
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

    private ColorChoice choice() {
        return new ColorChoice(method, transform, rgb, hsl);
    }

    /** The colours of channel values: --color with --transform. */
    Colorizer colorizer() {
        try {
            return choice().colorizer();
        } catch (IllegalArgumentException e) {
            throw new UnetlensException(e.getMessage());
        }
    }

    /** The colours of a channel-reduced map ({@link ColorChoice#reducedColorizer}). */
    Colorizer reducedColorizer(Reduction reduction) {
        try {
            return choice().reducedColorizer(reduction);
        } catch (IllegalArgumentException e) {
            throw new UnetlensException(e.getMessage());
        }
    }

    AutoScope scope() {
        return perTile ? AutoScope.TILE : AutoScope.SHARED;
    }
}
