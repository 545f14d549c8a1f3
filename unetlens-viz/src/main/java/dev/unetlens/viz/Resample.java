package dev.unetlens.viz;

/**
 * Bicubic resizing exactly as PyTorch's {@code F.interpolate(x, size=(h, w), mode='bicubic',
 * align_corners=False)} (ATen {@code upsample_bicubic2d}), which DAAM uses to bring every attention map to the
 * latent size and the word heat map to the image size.
 *
 * <p>Notation: output index d, input size n, output size m, scale s = n/m.
 * <ol>
 *   <li>Source coordinate x = s·(d + ½) − ½ (not clamped at 0: the cubic case of
 *       {@code area_pixel_compute_source_index}); i = floor(x), t = x − i.</li>
 *   <li>Weights of the 4 taps i−1 … i+2 (Keys' cubic convolution, A = −0.75):
 *       w = [c₂(t+1), c₁(t), c₁(1−t), c₂(2−t)], c₁(x) = ((A+2)x − (A+3))x² + 1, c₂(x) = ((Ax − 5A)x + 8A)x − 4A.</li>
 *   <li>Taps outside the input read the nearest edge value (index clamped to [0, n−1]).</li>
 *   <li>Rows are interpolated along x first, then the four results along y — ATen's order.</li>
 * </ol>
 * The weights can be negative, so the result can under- and overshoot the input's range (DAAM clamps at 0 after).
 */
public final class Resample {
    static final double A = -0.75;

    private Resample() {
    }

    /** The map resized to {@code height}×{@code width}. */
    public static Plane bicubic(Plane in, int height, int width) {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("output size must be positive, got " + height + "×" + width);
        }
        return Plane.owning(bicubic(in.values(), in.height(), in.width(), height, width), height, width);
    }

    /** [h·w] row-major → [outH·outW] row-major. */
    public static float[] bicubic(float[] in, int h, int w, int outH, int outW) {
        Taps tx = taps(w, outW);
        Taps ty = taps(h, outH);
        double[] rows = new double[h * outW];          // every input row, resized along x
        for (int r = 0; r < h; r++) {
            int base = r * w;
            for (int d = 0; d < outW; d++) {
                double acc = 0;
                for (int k = 0; k < 4; k++) {
                    acc += tx.weight[d * 4 + k] * in[base + tx.index[d * 4 + k]];
                }
                rows[r * outW + d] = acc;
            }
        }
        float[] out = new float[outH * outW];
        for (int d = 0; d < outH; d++) {
            for (int c = 0; c < outW; c++) {
                double acc = 0;
                for (int k = 0; k < 4; k++) {
                    acc += ty.weight[d * 4 + k] * rows[ty.index[d * 4 + k] * outW + c];
                }
                out[d * outW + c] = (float) acc;
            }
        }
        return out;
    }

    /** Per output index: 4 clamped input indices and their weights. */
    private record Taps(int[] index, double[] weight) {
    }

    private static Taps taps(int n, int m) {
        double scale = (double) n / m;
        int[] index = new int[m * 4];
        double[] weight = new double[m * 4];
        for (int d = 0; d < m; d++) {
            double x = scale * (d + 0.5) - 0.5;
            int i = (int) Math.floor(x);
            double t = x - i;
            double[] w = weights(t);
            for (int k = 0; k < 4; k++) {
                index[d * 4 + k] = Math.min(Math.max(i - 1 + k, 0), n - 1);
                weight[d * 4 + k] = w[k];
            }
        }
        return new Taps(index, weight);
    }

    /** The 4 cubic-convolution weights for a fractional offset t in [0, 1). */
    static double[] weights(double t) {
        return new double[] {c2(t + 1), c1(t), c1(1 - t), c2(2 - t)};
    }

    private static double c1(double x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    private static double c2(double x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }
}
