package dev.unetlens.model.check;

import ai.djl.ndarray.NDArray;

import java.util.SplittableRandom;

/**
 * A matrix product's output checked at sampled entries against float64 sums computed here: y = x·Wᵀ + b over the
 * last axis, x [..., K] (R rows in all), W [O, K], y [..., O]. A thorough check takes rows and output columns as
 * {@link Samples#along} does (edges, 8- and 16-wide block boundaries, random), a spot check up to
 * {@value #SPOT_ROWS} × {@value #SPOT_COLUMNS} random ones, as many as {@link ConvCheck#SPOT_MACS} multiply-adds
 * allow, at least {@link ConvCheck#SPOT_MIN} (rows apart).
 */
public final class LinearCheck {
    private static final int ROWS = 12;
    private static final int COLUMNS = 16;
    static final int SPOT_ROWS = 4;
    static final int SPOT_COLUMNS = 4;

    private LinearCheck() {
    }

    /** Thoroughly compares {@code y} with the exact {@code x·weightᵀ + bias} ({@code bias} may be null). */
    public static Comparison compare(NDArray x, NDArray weight, NDArray bias, NDArray y, SplittableRandom random) {
        return compare(x, weight, bias, y, random, Arithmetic.FLOAT32);
    }

    /** {@link #compare} for a product asked for {@code arithmetic} (x, weight and bias as given, float32). */
    public static Comparison compare(NDArray x, NDArray weight, NDArray bias, NDArray y, SplittableRandom random,
                                     Arithmetic arithmetic) {
        long k = weight.getShape().get(1);
        long out = weight.getShape().get(0);
        if (y.size() == 0) {
            return new Comparison.Tally().result();
        }
        int[] rows = Samples.along(x.size() / Math.max(1, k), ROWS, random);
        int[] cols = Samples.along(out, COLUMNS, random);
        float[] wv = Samples.at(weight, WeightRows.span(cols, k));
        float[] bv = bias == null ? new float[cols.length]
                : Samples.at(bias, java.util.Arrays.stream(cols).asLongStream().toArray());
        int[] offsets = new int[cols.length];
        for (int c = 0; c < cols.length; c++) {
            offsets[c] = Math.toIntExact(c * k);
        }
        return evaluate(x, k, out, y, rows, cols, wv, offsets, bv, true, arithmetic);
    }

    /** Spot-checks {@code y} at a few random rows × columns drawn from {@code w} (the weight's rows in Java). */
    public static Comparison spot(NDArray x, long k, long out, WeightRows w, NDArray y, SplittableRandom random) {
        return spot(x, k, out, w, y, random, Arithmetic.FLOAT32);
    }

    /** {@link #spot} for a product asked for {@code arithmetic}. */
    public static Comparison spot(NDArray x, long k, long out, WeightRows w, NDArray y, SplittableRandom random,
                                  Arithmetic arithmetic) {
        if (y.size() == 0) {
            return new Comparison.Tally().result();
        }
        long outputs = Math.clamp(ConvCheck.SPOT_MACS / Math.max(1, k), ConvCheck.SPOT_MIN,
                (long) SPOT_ROWS * SPOT_COLUMNS);
        int columns = outputs >= 2L * SPOT_COLUMNS ? SPOT_COLUMNS : 1;
        int[] rows = Samples.random(x.size() / Math.max(1, k), (int) (outputs / columns), random);
        int[] picks = Samples.random(w.count(), columns, random);
        int[] cols = new int[picks.length];
        for (int i = 0; i < picks.length; i++) {
            cols[i] = w.row(picks[i]);
        }
        return evaluate(x, k, out, y, rows, cols, w.values(), w.offsets(picks), w.biases(picks), false, arithmetic);
    }

    /** Column {@code cols[c]} has its weights in {@code wv} from {@code offsets[c]} on and its bias in {@code bv[c]}. */
    private static Comparison evaluate(NDArray x, long k, long out, NDArray y, int[] rows, int[] cols, float[] weights,
                                       int[] offsets, float[] biases, boolean describe, Arithmetic arithmetic) {
        float[] xv = arithmetic.inputs(Samples.rows(x, rows, Math.toIntExact(k)));
        float[] wv = arithmetic.inputs(weights);
        float[] bv = arithmetic.inputs(biases);
        long[] yIndex = new long[rows.length * cols.length];
        for (int r = 0; r < rows.length; r++) {
            for (int c = 0; c < cols.length; c++) {
                yIndex[r * cols.length + c] = rows[r] * out + cols[c];
            }
        }
        float[] yv = Samples.at(y, yIndex);
        Comparison.Tally tally = new Comparison.Tally(arithmetic);
        double[] dot = new double[2];
        for (int r = 0; r < rows.length; r++) {
            for (int c = 0; c < cols.length; c++) {
                ExactDot.dot(xv, (int) (r * k), wv, offsets[c], (int) k, dot);
                double sum = bv[c] + dot[0];
                double abs = Math.abs(bv[c]) + dot[1];
                int row = rows[r];
                int col = cols[c];
                tally.add(yv[r * cols.length + c], sum, abs, k, bv[c], () -> "(row " + row + ", column " + col + ")");
            }
        }
        return tally.result(describe);
    }
}
