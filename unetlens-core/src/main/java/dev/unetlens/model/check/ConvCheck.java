package dev.unetlens.model.check;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.SplittableRandom;

/**
 * A 2-D convolution's output checked at sampled positions against float64 sums computed here, in Java, from the
 * call's own input and weights: y[n, o, i, j] = b[o] + Σ_c Σ_ky Σ_kx w[o, c, ky, kx] · x[n, c, i·s − pH + ky,
 * j·s − pW + kx], with x zero outside the map. A thorough check samples a grid of rows × columns (edges, block
 * boundaries, random) in the first and last image of the batch, times a set of output channels chosen the same way,
 * the inputs they read capped at about {@value #GATHER_BUDGET} values; a spot check up to {@value #SPOT_POSITIONS}
 * random positions times {@value #SPOT_CHANNELS} random channels of the module's {@link WeightRows}, as many as
 * {@value #SPOT_MACS} multiply-adds allow, at least {@value #SPOT_MIN} outputs, each at its own random position
 * when there are so few (the AVX-512 fault, when it strikes, is wrong at every row but the first: 33,597 of 33,600
 * outputs). Inputs and outputs
 * are gathered in one call per tensor (small ones copied whole).
 */
public final class ConvCheck {
    static final long GATHER_BUDGET = 1L << 21;
    private static final int PER_AXIS = 7;
    private static final int CHANNELS = 16;
    private static final int MIN_POSITIONS = 8;
    static final int SPOT_POSITIONS = 6;
    static final int SPOT_CHANNELS = 4;
    static final int SPOT_MIN = 3;
    /** Multiply-adds a spot check may spend: fewer outputs for long sums (3 at 1280 channels × 3×3). */
    static final long SPOT_MACS = 1L << 14;

    private ConvCheck() {
    }

    /**
     * Thoroughly compares {@code y} with the exact convolution of {@code x} [B, C, H, W] by {@code weight}
     * [O, C, kH, kW] (plus {@code bias} [O] or null) with this stride and zero padding.
     */
    public static Comparison compare(NDArray x, NDArray weight, NDArray bias, long stride, long padH, long padW,
                                     NDArray y, SplittableRandom random) {
        return compare(x, weight, bias, stride, padH, padW, y, random, Arithmetic.FLOAT32);
    }

    /** {@link #compare} for a kernel asked for {@code arithmetic} (x, weight and bias as given, float32). */
    public static Comparison compare(NDArray x, NDArray weight, NDArray bias, long stride, long padH, long padW,
                                     NDArray y, SplittableRandom random, Arithmetic arithmetic) {
        Shape ws = weight.getShape();
        Shape ys = y.getShape();
        long terms = x.getShape().get(1) * ws.get(2) * ws.get(3);
        if (y.size() == 0) {
            return new Comparison.Tally().result();
        }
        int[] batch = Samples.along(ys.get(0), 2, random);
        int[] rows = Samples.along(ys.get(2), PER_AXIS, random);
        int[] cols = Samples.along(ys.get(3), PER_AXIS, random);
        int[] outs = Samples.along(ys.get(1), CHANNELS, random);
        long[][] positions = positions(batch, rows, cols, Math.max(MIN_POSITIONS, GATHER_BUDGET / Math.max(1, terms)));
        float[] wv = Samples.at(weight, WeightRows.span(outs, terms));
        float[] bv = bias == null ? new float[outs.length]
                : Samples.at(bias, java.util.Arrays.stream(outs).asLongStream().toArray());
        int[] offsets = new int[outs.length];
        for (int o = 0; o < outs.length; o++) {
            offsets[o] = Math.toIntExact(o * terms);
        }
        return evaluate(x, ws, stride, padH, padW, y, positions, outs, wv, offsets, bv, true, arithmetic);
    }

    /** Spot-checks {@code y} at a few random positions × output channels drawn from {@code rows} (already in Java). */
    public static Comparison spot(NDArray x, Shape weightShape, WeightRows rows, long stride, long padH, long padW,
                                  NDArray y, SplittableRandom random) {
        return spot(x, weightShape, rows, stride, padH, padW, y, random, Arithmetic.FLOAT32);
    }

    /** {@link #spot} for a kernel asked for {@code arithmetic}. */
    public static Comparison spot(NDArray x, Shape weightShape, WeightRows rows, long stride, long padH, long padW,
                                  NDArray y, SplittableRandom random, Arithmetic arithmetic) {
        Shape ys = y.getShape();
        if (y.size() == 0) {
            return new Comparison.Tally().result();
        }
        long terms = x.getShape().get(1) * weightShape.get(2) * weightShape.get(3);
        long outputs = Math.clamp(SPOT_MACS / Math.max(1, terms), SPOT_MIN, (long) SPOT_POSITIONS * SPOT_CHANNELS);
        int channels = outputs >= 2L * SPOT_CHANNELS ? SPOT_CHANNELS : 1;     // few outputs: each at its own place
        int[] picks = Samples.random(rows.count(), channels, random);
        int[] outs = new int[picks.length];
        for (int i = 0; i < picks.length; i++) {
            outs[i] = rows.row(picks[i]);
        }
        long[][] positions = new long[(int) (outputs / channels)][];
        for (int p = 0; p < positions.length; p++) {
            positions[p] = new long[] {random.nextLong(ys.get(0)), random.nextLong(ys.get(2)), random.nextLong(ys.get(3))};
        }
        return evaluate(x, weightShape, stride, padH, padW, y, positions, outs, rows.values(), rows.offsets(picks),
                rows.biases(picks), false, arithmetic);
    }

    /**
     * The outputs at {@code positions} × {@code outs}: output channel {@code outs[o]} has its weights in {@code w}
     * from {@code offsets[o]} on and its bias in {@code bias[o]}.
     */
    private static Comparison evaluate(NDArray x, Shape ws, long stride, long padH, long padW, NDArray y,
                                       long[][] positions, int[] outs, float[] weights, int[] offsets, float[] biases,
                                       boolean describe, Arithmetic arithmetic) {
        Shape xs = x.getShape();
        Shape ys = y.getShape();
        int terms = Math.toIntExact(xs.get(1) * ws.get(2) * ws.get(3));
        float[] patches = arithmetic.inputs(patches(x, positions, ws.get(2), ws.get(3), stride, padH, padW));
        float[] w = arithmetic.inputs(weights);
        float[] bias = arithmetic.inputs(biases);
        long[] yIndex = new long[positions.length * outs.length];
        for (int p = 0; p < positions.length; p++) {
            for (int o = 0; o < outs.length; o++) {
                long[] q = positions[p];
                yIndex[p * outs.length + o] = ((q[0] * ys.get(1) + outs[o]) * ys.get(2) + q[1]) * ys.get(3) + q[2];
            }
        }
        float[] yv = Samples.at(y, yIndex);
        Comparison.Tally tally = new Comparison.Tally(arithmetic);
        double[] dot = new double[2];
        for (int p = 0; p < positions.length; p++) {
            long[] q = positions[p];
            long inside = xs.get(1) * inside(q[1], stride, padH, ws.get(2), xs.get(2))
                    * inside(q[2], stride, padW, ws.get(3), xs.get(3));
            for (int o = 0; o < outs.length; o++) {
                ExactDot.dot(w, offsets[o], patches, p * terms, terms, dot);  // zeros outside the map add nothing
                double sum = bias[o] + dot[0];
                double abs = Math.abs(bias[o]) + dot[1];
                int oc = outs[o];
                tally.add(yv[p * outs.length + o], sum, abs, inside, bias[o],
                        () -> "(" + q[0] + ", " + oc + ", " + q[1] + ", " + q[2] + ")");
            }
        }
        return tally.result(describe);
    }

    /** How many of a kernel's k taps along one axis land inside the map, for output index i. */
    private static long inside(long i, long stride, long pad, long k, long size) {
        long first = i * stride - pad;
        return Math.max(0, Math.min(size, first + k) - Math.max(0, first));
    }

    /**
     * The input values each position's output reads, (c, ky, kx) in the weight's order, zero outside the map:
     * [positions × C·kH·kW]. Read in place where the input's layout allows ({@link NativeView}: row-major or
     * channels-last), from a whole copy when it is small, else from one view of each position's window (a large non-contiguous input is never copied whole).
     */
    private static float[] patches(NDArray x, long[][] positions, long kh, long kw, long stride, long padH, long padW) {
        Shape xs = x.getShape();
        int channels = Math.toIntExact(xs.get(1));
        int h = Math.toIntExact(xs.get(2));
        int wd = Math.toIntExact(xs.get(3));
        int terms = Math.toIntExact(channels * kh * kw);
        float[] out = new float[positions.length * terms];
        NativeView view = NativeView.of(x);
        float[] all = view == null && x.size() <= Samples.COPY_WHOLE ? x.toType(DataType.FLOAT32, false).toFloatArray() : null;
        for (int p = 0; p < positions.length; p++) {
            long[] q = positions[p];
            int top = Math.toIntExact(q[1] * stride - padH);
            int left = Math.toIntExact(q[2] * stride - padW);
            int y0 = Math.max(0, top);
            int y1 = (int) Math.min(h, top + kh);
            int x0 = Math.max(0, left);
            int x1 = (int) Math.min(wd, left + kw);
            if (y1 <= y0 || x1 <= x0) {
                continue;                                                // the window is all padding
            }
            float[] window = view == null && all == null ? window(x, q[0], y0, y1, x0, x1) : null;
            for (int c = 0; c < channels; c++) {
                for (int iy = y0; iy < y1; iy++) {
                    int at = p * terms + (int) ((c * kh + (iy - top)) * kw) + (x0 - left);
                    int run = x1 - x0;
                    if (window != null) {
                        System.arraycopy(window, (c * (y1 - y0) + iy - y0) * run, out, at, run);
                    } else {
                        if (view != null) {
                            for (int k = 0; k < run; k++) {
                                out[at + k] = view.at(q[0], c, iy, x0 + k);
                            }
                        } else {
                            int from = (int) (((q[0] * channels + c) * h + iy) * wd + x0);
                            System.arraycopy(all, from, out, at, run);
                        }
                    }
                }
            }
        }
        return out;
    }

    /** x[n, :, y0:y1, x0:x1] as floats, through one view. */
    private static float[] window(NDArray x, long n, int y0, int y1, int x0, int x1) {
        ai.djl.ndarray.index.NDIndex index = new ai.djl.ndarray.index.NDIndex().addIndices(n).addAllDim()
                .addSliceDim(y0, y1).addSliceDim(x0, x1);
        try (NDArray w = x.get(index)) {
            return w.toType(DataType.FLOAT32, false).toFloatArray();
        }
    }

    /** (n, row, col) triples: every row × column in each chosen image, in the samples' priority order, capped. */
    private static long[][] positions(int[] batch, int[] rows, int[] cols, long cap) {
        int total = (int) Math.min(cap, (long) batch.length * rows.length * cols.length);
        long[][] out = new long[total][];
        int k = 0;
        for (int rank = 0; k < total; rank++) {                          // interleave so a cap keeps corners first
            for (int n : batch) {
                for (int r = 0; r <= rank && k < total; r++) {
                    int c = rank - r;
                    if (r < rows.length && c < cols.length) {
                        out[k++] = new long[] {n, rows[r], cols[c]};
                    }
                }
            }
            if (rank > rows.length + cols.length) {
                break;
            }
        }
        return java.util.Arrays.copyOf(out, k);
    }
}
