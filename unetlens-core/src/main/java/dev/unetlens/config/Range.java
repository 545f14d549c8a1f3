package dev.unetlens.config;

/**
 * The values an integer config field may take, inclusive: what the model families can have, with room to spare, so
 * that a hostile or mistyped value fails in one line ({@code layers_per_block must be in [1, 16], got 2097152})
 * instead of building millions of layers or allocating gigabytes.
 *
 * @param field the config key
 * @param min   the smallest allowed value
 * @param max   the largest allowed value
 */
public record Range(String field, int min, int max) {
    public Range {
        if (min > max) {
            throw new IllegalArgumentException(field + ": empty range [" + min + ", " + max + "]");
        }
    }

    public boolean contains(long v) {
        return v >= min && v <= max;
    }

    /** {@code v} if it is in range, else a {@link ConfigException} naming the field, the value and the range. */
    public int check(long v) {
        if (!contains(v)) {
            throw new ConfigException(field + " must be in " + this + ", got " + v);
        }
        return (int) v;
    }

    /** Every value of {@code values} checked, for list fields ({@code block_out_channels}). */
    public java.util.List<Integer> checkAll(java.util.List<Integer> values) {
        for (int v : values) {
            if (!contains(v)) {
                throw new ConfigException(field + " entries must be in " + this + ", got " + v);
            }
        }
        return values;
    }

    /** {@code [min, max]}. */
    @Override
    public String toString() {
        return "[" + min + ", " + max + "]";
    }
}
