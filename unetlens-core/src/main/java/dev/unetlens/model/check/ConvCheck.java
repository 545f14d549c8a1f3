package dev.unetlens.model.check;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

import java.util.SplittableRandom;

/**
 * A 2-D convolution's output checked at sampled positions against float64 sums computed here, in Java, from the
 * call's own input and weights: y[n, o, i, j] = b[o] + Σ_c Σ_ky Σ_kx w[o, c, ky, kx] · x[n, c, i·s − pH + ky,
 * j·s − pW + kx], with x zero outside the map. A thorough check samples a grid of rows × columns (edges, block
 * boundaries, random) in the first and last image of the batch, times a set of output channels chosen the same way,
 * the inputs they read capped at about {@value #GATHER_BUDGET} values; a spot check up to {@value #SPOT_POSITIONS}
 * random positions times {@value #SPOT_CHANNELS} random channels of the module's {@link WeightRows}, as many as
 * {@value #SPOT_MACS} multiply-adds allow, at least four outputs. Inputs and outputs
 * are gathered in one call per tensor (small ones copied whole).
 */
public final class ConvCheck {
    static final long GATHER_BUDGET = 1L << 21;
    private static final int PER_AXIS = 7;
    private static final int CHANNELS = 16;
    private static final int MIN_POSITIONS = 8;
    static final int SPOT_POSITIONS = 6;
    static final int SPOT_CHANNELS = 4;
    /** Multiply-adds a spot check may spend: fewer outputs for long sums (4 at 1280 channels × 3×3). */
    static final long SPOT_MACS = 1L << 15;

    private ConvCheck() {
    }

    /**
     * Thoroughly compares {@code y} with the exact convolution of {@code x} [B, C, H, W] by {@code weight}
     * [O, C, kH, kW] (plus {@code bias} [O] or null) with this stride and zero padding.
     */
    public static Comparison compare(NDArray x, NDArray weight, NDArray bias, long stride, long padH, long padW,
                                     NDArray y, SplittableRandom random) {
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
        float[] bv = bias == null ? null : Samples.at(bias, java.util.Arrays.stream(outs).asLongStream().toArray());
        return evaluate(x, ws, stride, padH, padW, y, positions, outs, wv, bv);
    }

    /** Spot-checks {@code y} at a few random positions × output channels drawn from {@code rows} (already in Java). */
    public static Comparison spot(NDArray x, Shape weightShape, WeightRows rows, long stride, long padH, long padW,
                                  NDArray y, SplittableRandom random) {
        Shape ys = y.getShape();
        if (y.size() == 0) {
            return new Comparison.Tally().result();
        }
        long terms = x.getShape().get(1) * weightShape.get(2) * weightShape.get(3);
        long outputs = Math.clamp(SPOT_MACS / Math.max(1, terms), 4, (long) SPOT_POSITIONS * SPOT_CHANNELS);
        int channels = outputs >= 2L * SPOT_CHANNELS ? SPOT_CHANNELS : 2;
        int[] picks = Samples.random(rows.count(), channels, random);
        int[] outs = new int[picks.length];
        for (int i = 0; i < picks.length; i++) {
            outs[i] = rows.row(picks[i]);
        }
        long[][] positions = new long[(int) (outputs / channels)][];
        for (int p = 0; p < positions.length; p++) {
            positions[p] = new long[] {random.nextLong(ys.get(0)), random.nextLong(ys.get(2)), random.nextLong(ys.get(3))};
        }
        float[][] wb = rows.pick(picks);
        return evaluate(x, weightShape, stride, padH, padW, y, positions, outs, wb[0], wb[1]);
    }

    /** The outputs at {@code positions} × {@code outs}, given those channels' weights {@code wv} and biases {@code bv}. */
    private static Comparison evaluate(NDArray x, Shape ws, long stride, long padH, long padW, NDArray y,
                                       long[][] positions, int[] outs, float[] wv, float[] bv) {
        Shape xs = x.getShape();
        Shape ys = y.getShape();
        long channels = xs.get(1);
        long kh = ws.get(2);
        long kw = ws.get(3);
        long terms = channels * kh * kw;                                  // per output
        long[] xIndex = new long[Math.toIntExact(positions.length * terms)];
        boolean[] inside = new boolean[xIndex.length];
        int k = 0;
        for (long[] p : positions) {                                      // p = (n, i, j)
            for (long c = 0; c < channels; c++) {
                for (long ky = 0; ky < kh; ky++) {
                    for (long kx = 0; kx < kw; kx++, k++) {
                        long iy = p[1] * stride - padH + ky;
                        long ix = p[2] * stride - padW + kx;
                        inside[k] = iy >= 0 && iy < xs.get(2) && ix >= 0 && ix < xs.get(3);
                        xIndex[k] = inside[k] ? ((p[0] * channels + c) * xs.get(2) + iy) * xs.get(3) + ix : 0;
                    }
                }
            }
        }
        float[] xv = Samples.at(x, xIndex);
        long[] yIndex = new long[positions.length * outs.length];
        for (int p = 0; p < positions.length; p++) {
            for (int o = 0; o < outs.length; o++) {
                long[] q = positions[p];
                yIndex[p * outs.length + o] = ((q[0] * ys.get(1) + outs[o]) * ys.get(2) + q[1]) * ys.get(3) + q[2];
            }
        }
        float[] yv = Samples.at(y, yIndex);

        Comparison.Tally tally = new Comparison.Tally();
        for (int p = 0; p < positions.length; p++) {
            int xBase = Math.toIntExact(p * terms);
            for (int o = 0; o < outs.length; o++) {
                int wBase = Math.toIntExact(o * terms);
                double sum = bv == null ? 0 : bv[o];
                double abs = Math.abs(sum);
                long n = 0;
                for (int t = 0; t < terms; t++) {
                    if (inside[xBase + t]) {
                        double prod = (double) wv[wBase + t] * xv[xBase + t];
                        sum += prod;
                        abs += Math.abs(prod);
                        n++;
                    }
                }
                long[] q = positions[p];
                int oc = outs[o];
                tally.add(yv[p * outs.length + o], sum, abs, n,
                        () -> "(" + q[0] + ", " + oc + ", " + q[1] + ", " + q[2] + ")");
            }
        }
        return tally.result();
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
