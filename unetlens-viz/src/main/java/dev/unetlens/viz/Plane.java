package dev.unetlens.viz;

import java.util.Arrays;

/**
 * One 2-D map of values, rows top to bottom: a channel of a feature map, a reduced map, a heat map, a similarity
 * map. Immutable: the array is copied in and out.
 *
 * @param values [H·W] row-major (index = row·W + col)
 * @param height H
 * @param width  W
 */
public record Plane(float[] values, int height, int width) {
    public Plane {
        if (height <= 0 || width <= 0 || values.length != (long) height * width) {
            throw new IllegalArgumentException("a " + height + "×" + width + " map needs " + (long) height * width
                    + " values, got " + values.length);
        }
        values = values.clone();
    }

    /** The value at (row, col). */
    public float get(int row, int col) {
        return values[row * width + col];
    }

    @Override
    public float[] values() {
        return values.clone();
    }

    /** The smallest and largest finite values, {lo, hi}; {NaN, NaN} when there is none. */
    public double[] range() {
        return Ranges.finiteRange(values);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Plane p && height == p.height && width == p.width && Arrays.equals(values, p.values);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * height + width) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "Plane[" + height + "×" + width + "]";
    }

    /** Wraps an array without copying it: for arrays this module made and no one else holds. */
    static Plane owning(float[] values, int height, int width) {
        return new Plane(values, height, width);
    }
}
