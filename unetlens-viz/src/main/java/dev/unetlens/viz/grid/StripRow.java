package dev.unetlens.viz.grid;

import dev.unetlens.viz.FeatureMap;
import dev.unetlens.viz.Plane;

/** What one row of a step strip shows at every step: a channel-reduced map or one channel. */
public sealed interface StripRow {

    record Reduced(Reduction reduction) implements StripRow {
    }

    record Channel(int channel) implements StripRow {
        public Channel {
            if (channel < 0) {
                throw new IllegalArgumentException("channel must be ≥ 0, got " + channel);
            }
        }
    }

    /** The row's map of one feature map. */
    default Plane of(FeatureMap map) {
        return switch (this) {
            case Reduced(Reduction r) -> r.apply(map);
            case Channel(int c) -> map.channel(c);
        };
    }

    /** "ch 12", "sum", "l2". */
    default String label() {
        return switch (this) {
            case Reduced(Reduction r) -> r.cliName();
            case Channel(int c) -> "ch " + c;
        };
    }
}
