package dev.unetlens.cli;

import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.colorize.Clamping;
import dev.unetlens.viz.colorize.Colorizer;

import java.util.Locale;

/**
 * Collects how much a Linear --transform clamps in each channel grid, and warns once (one line) when it clamps
 * more than {@value Clamping#MOSTLY} of some grids' values, naming the range those values call for.
 */
final class ClampReport {
    private final Colorizer colorizer;
    private int grids;
    private int mostly;
    private double worst;
    private String worstLabel = "";
    private double suggested;

    ClampReport(Colorizer colorizer) {
        this.colorizer = colorizer;
    }

    void add(MapLabel label, Clamping c) {
        grids++;
        if (!c.mostly()) {
            return;
        }
        mostly++;
        suggested = Math.max(suggested, c.suggested());
        if (c.fraction() > worst) {
            worst = c.fraction();
            worstLabel = label.module() + (label.context().isEmpty() ? "" : " " + label.context());
        }
    }

    /** The warning line, or null when no grid is mostly clamped. */
    String warning() {
        if (mostly == 0) {
            return null;
        }
        String bound = Clamping.format(suggested);
        return String.format(Locale.ROOT, "unetlens: warning: --transform %s clamps more than %.0f %% of the values of"
                        + " %d of %d channel grids (%s: %.1f %%), so they show little but its two end colours; their"
                        + " values call for about --transform \"linear(-%s,%s)\"", colorizer.transform().label(),
                100 * Clamping.MOSTLY, mostly, grids, worstLabel, 100 * worst, bound, bound);
    }

    void warn() {
        String w = warning();
        if (w != null) {
            System.err.println(w);
        }
    }
}
