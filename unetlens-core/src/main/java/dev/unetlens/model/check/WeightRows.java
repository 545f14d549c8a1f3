package dev.unetlens.model.check;

import ai.djl.ndarray.NDArray;

import java.util.SplittableRandom;

/**
 * A few output rows of a weight (output channels of a convolution, output features of a linear layer) and their
 * biases, copied to Java once per module: spot checks draw from these instead of reading weights on every call.
 * The rows are chosen as {@link Samples#along} chooses (edges, 8- and 16-wide block boundaries, then random).
 */
public final class WeightRows {
    static final int COUNT = 16;
    private final int[] rows;
    private final float[] values;   // rows.length × width
    private final float[] bias;     // rows.length, or null
    private final int width;

    private WeightRows(int[] rows, float[] values, float[] bias, int width) {
        this.rows = rows;
        this.values = values;
        this.bias = bias;
        this.width = width;
    }

    /** Rows of {@code weight} [O, ...] (each flattened: Cin·k·k values for a convolution) and of {@code bias} [O] or null. */
    public static WeightRows of(NDArray weight, NDArray bias) {
        long out = weight.getShape().get(0);
        int width = Math.toIntExact(weight.size() / Math.max(1, out));
        int[] rows = Samples.along(out, COUNT, new SplittableRandom(out));
        return new WeightRows(rows, Samples.at(weight, span(rows, width)),
                bias == null ? null : Samples.at(bias, java.util.Arrays.stream(rows).asLongStream().toArray()), width);
    }

    /** The flat indices of whole rows of length {@code width}. */
    static long[] span(int[] rows, long width) {
        long[] index = new long[Math.toIntExact(rows.length * width)];
        for (int r = 0; r < rows.length; r++) {
            for (long t = 0; t < width; t++) {
                index[Math.toIntExact(r * width + t)] = rows[r] * width + t;
            }
        }
        return index;
    }

    int count() {
        return rows.length;
    }

    /** The output index of stored row {@code i}. */
    int row(int i) {
        return rows[i];
    }

    float bias(int i) {
        return bias == null ? 0 : bias[i];
    }

    /** All stored rows, row i from {@code i × width} on. */
    float[] values() {
        return values;
    }

    /** Where the stored rows {@code picks} start in {@link #values}. */
    int[] offsets(int[] picks) {
        int[] out = new int[picks.length];
        for (int p = 0; p < picks.length; p++) {
            out[p] = picks[p] * width;
        }
        return out;
    }

    /** The biases of the stored rows {@code picks} (zeros without a bias). */
    float[] biases(int[] picks) {
        float[] out = new float[picks.length];
        for (int p = 0; p < picks.length; p++) {
            out[p] = bias(picks[p]);
        }
        return out;
    }
}
