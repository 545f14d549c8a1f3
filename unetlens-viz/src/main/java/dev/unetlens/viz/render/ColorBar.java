package dev.unetlens.viz.render;

import java.util.List;
import java.util.function.DoubleToIntFunction;

/**
 * What a colour bar shows: the colour of each value in [lo, hi], tick marks, and a caption along its side.
 *
 * @param lo      value at the bottom
 * @param hi      value at the top
 * @param colorOf value → packed 0xRRGGBB
 * @param ticks   labelled values in [lo, hi]
 * @param caption what the values are ("probability", "‖f‖₂"), or null
 */
public record ColorBar(double lo, double hi, DoubleToIntFunction colorOf, List<Ticks.Tick> ticks, String caption) {
    public ColorBar {
        ticks = List.copyOf(ticks);
    }

    /** A bar over [lo, hi] with about 6 nice ticks. */
    public static ColorBar of(double lo, double hi, DoubleToIntFunction colorOf, String caption) {
        if (!(hi > lo)) {   // a constant (or empty) map: a bar around the one value
            double c = Double.isFinite(lo) ? lo : 0;
            double pad = Math.max(Math.abs(c) * 0.5, 0.5);
            lo = c - pad;
            hi = c + pad;
        }
        return new ColorBar(lo, hi, colorOf, Ticks.of(lo, hi, 6), caption);
    }

    /** A bar whose ends are named rather than numbered ("low", "high"): for maps scaled one by one. */
    public static ColorBar relative(DoubleToIntFunction colorOf, String lowLabel, String highLabel, String caption) {
        return new ColorBar(0, 1, colorOf, List.of(new Ticks.Tick(0, lowLabel), new Ticks.Tick(1, highLabel)),
                caption);
    }

    /** Width it takes beside a picture. */
    public int width() {
        return Canvas.colorBarWidth(ticks, caption);
    }

    /** Draws it at (x, y), {@code height} pixels tall. */
    public void draw(Canvas c, int x, int y, int height) {
        c.colorBar(x, y, height, lo, hi, colorOf, ticks, caption);
    }
}
