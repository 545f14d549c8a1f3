package dev.unetlens.viz.grid;

import dev.unetlens.viz.colorize.Colorizer;

import java.util.List;

/**
 * How a channel grid is drawn.
 *
 * @param colorizer   value → pixel
 * @param channels    the channels to show, in order; empty for all
 * @param scope       where the Auto transforms take their range from
 * @param maxPageSide the most pixels the tile area of a page may take in either direction; more tiles go on
 *                    further pages (a 1280-channel block at 32 px tiles fits on one 1224 px page)
 */
public record GridOptions(Colorizer colorizer, List<Integer> channels, AutoScope scope, int maxPageSide) {
    public static final int DEFAULT_MAX_PAGE_SIDE = 2048;

    public GridOptions {
        channels = List.copyOf(channels);
        if (maxPageSide < 32) {
            throw new IllegalArgumentException("max page side must be at least 32 px, got " + maxPageSide);
        }
    }

    /** All channels, viridis · Auto [0,1] over the whole map, pages up to 2048 px. */
    public static GridOptions defaults() {
        return new GridOptions(Colorizer.viridis(), List.of(), AutoScope.SHARED, DEFAULT_MAX_PAGE_SIDE);
    }

    public GridOptions withColorizer(Colorizer c) {
        return new GridOptions(c, channels, scope, maxPageSide);
    }

    public GridOptions withChannels(List<Integer> selected) {
        return new GridOptions(colorizer, selected, scope, maxPageSide);
    }

    public GridOptions withScope(AutoScope s) {
        return new GridOptions(colorizer, channels, s, maxPageSide);
    }

    public GridOptions withMaxPageSide(int px) {
        return new GridOptions(colorizer, channels, scope, px);
    }
}
