package dev.unetlens.analysis.images;

import dev.unetlens.io.RgbImage;

/**
 * PIL's {@code Image.resize(size)} with its default filter for RGB images, bicubic (Pillow ≥ 7), as
 * {@code ImagingResample} computes it: a separable convolution, horizontal pass first, each pass rounded to 8 bits.
 * The paper's dataset was made this way, so images prepared here match it.
 *
 * <p>Per output index d of a pass over n inputs to m outputs (scale s = n / m, f = max(s, 1)):
 * <ol>
 *   <li>centre c = (d + ½)·s; support r = 2f (bicubic's support 2, widened by f when shrinking, which antialiases);</li>
 *   <li>taps x from ⌊c − r + ½⌋ to ⌊c + r + ½⌋ (clamped to [0, n]), weight k((x − c + ½)/f) with Keys' cubic,
 *       a = −½: k(t) = ((a+2)|t| − (a+3))t² + 1 for |t| &lt; 1, a(|t|³ − 5t² + 8|t| − 4) for |t| &lt; 2;</li>
 *   <li>weights normalised to sum 1, then to fixed point with 22 fraction bits (rounded half away from zero);</li>
 *   <li>output = clip₈((2²¹ + Σ w·in) ≫ 22).</li>
 * </ol>
 * Written here because no Java imaging library reproduces PIL's resampling.
 */
public final class PilResize {
    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final double A = -0.5;

    private PilResize() {
    }

    /** The image resized to {@code width × height}. */
    public static RgbImage bicubic(RgbImage in, int width, int height) {
        byte[] px = in.rgb();
        int w = in.width();
        int h = in.height();
        if (width != w) {
            px = pass(px, w, h, width, true);
            w = width;
        }
        if (height != h) {
            px = pass(px, w, h, height, false);
            h = height;
        }
        return new RgbImage(w, h, px);
    }

    /** One pass along x (horizontal) or y: n = the axis' input size, m its output size. */
    private static byte[] pass(byte[] px, int w, int h, int m, boolean horizontal) {
        int n = horizontal ? w : h;
        Taps taps = taps(n, m);
        int ow = horizontal ? m : w;
        int oh = horizontal ? h : m;
        byte[] out = new byte[ow * oh * 3];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int d = horizontal ? x : y;
                int first = taps.first[d];
                int[] k = taps.weights[d];
                for (int ch = 0; ch < 3; ch++) {
                    long ss = 1L << (PRECISION_BITS - 1);
                    for (int t = 0; t < k.length; t++) {
                        int sx = horizontal ? first + t : x;
                        int sy = horizontal ? y : first + t;
                        ss += (long) (px[(sy * w + sx) * 3 + ch] & 0xff) * k[t];
                    }
                    out[(y * ow + x) * 3 + ch] = (byte) Math.clamp(ss >> PRECISION_BITS, 0, 255);
                }
            }
        }
        return out;
    }

    private record Taps(int[] first, int[][] weights) {
    }

    private static Taps taps(int n, int m) {
        double scale = (double) n / m;
        double filterScale = Math.max(scale, 1.0);
        double support = 2.0 * filterScale;
        int[] first = new int[m];
        int[][] weights = new int[m][];
        for (int d = 0; d < m; d++) {
            double center = (d + 0.5) * scale;
            int xmin = Math.max(0, (int) (center - support + 0.5));
            int xmax = Math.min(n, (int) (center + support + 0.5)) - xmin;
            double[] k = new double[xmax];
            double sum = 0;
            for (int x = 0; x < xmax; x++) {
                k[x] = cubic((x + xmin - center + 0.5) / filterScale);
                sum += k[x];
            }
            int[] fixed = new int[xmax];
            for (int x = 0; x < xmax; x++) {
                double v = sum != 0 ? k[x] / sum : k[x];
                fixed[x] = (int) (v * (1 << PRECISION_BITS) + (v < 0 ? -0.5 : 0.5));
            }
            first[d] = xmin;
            weights[d] = fixed;
        }
        return new Taps(first, weights);
    }

    private static double cubic(double t) {
        t = Math.abs(t);
        if (t < 1) {
            return ((A + 2) * t - (A + 3)) * t * t + 1;
        }
        if (t < 2) {
            return (((t - 5) * t + 8) * t - 4) * A;
        }
        return 0;
    }
}
