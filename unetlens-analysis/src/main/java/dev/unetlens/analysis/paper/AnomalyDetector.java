package dev.unetlens.analysis.paper;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Finds high-norm anomalies without hand labels: tokens whose norm exceeds the map's median by more than k robust
 * standard deviations (σ̂ = 1.4826 · MAD, the median absolute deviation scaled to σ for normal data), grouped into
 * 8-connected patches. k = {@value #DEFAULT_K}: on maps of Gaussian channels (4 to 320 channels, 16² to 64² tokens) no
 * token of noise passes it, and a planted 2×2 patch of 1.5 times the typical norm at 320 channels (SD's narrowest
 * module) stands ≈ 12 σ̂ out ({@code AnomalyDetectorTest}).
 */
public final class AnomalyDetector {
    public static final double DEFAULT_K = 6;
    /** MAD to σ for normal data. */
    public static final double MAD_TO_SIGMA = 1.4826;

    private AnomalyDetector() {
    }

    /**
     * A detected patch.
     *
     * @param row    upper-left token's row (the bounding box's top)
     * @param col    its column
     * @param rows   bounding box height
     * @param cols   bounding box width
     * @param tokens tokens above the threshold
     * @param ratio  mean norm of those tokens / mean norm of the map (the paper's ratio)
     * @param peak   the largest norm in the patch / mean norm of the map
     */
    public record Patch(int row, int col, int rows, int cols, int tokens, double ratio, double peak) {
        /** Whether the patch, grown by {@code margin} tokens, meets the window. */
        public boolean meets(AnomalyWindow w, int margin) {
            return row - margin < w.row() + w.size() && w.row() < row + rows + margin
                    && col - margin < w.col() + w.size() && w.col() < col + cols + margin;
        }
    }

    /** median + k · 1.4826 · MAD of the map's norms. */
    public static double threshold(NormMap m, double k) {
        double[] v = m.norms().clone();
        double median = median(v);
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.abs(v[i] - median);
        }
        return median + k * MAD_TO_SIGMA * median(v);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** The patches of one map, in raster order of their first token. */
    public static List<Patch> detect(NormMap m, double k) {
        double t = threshold(m, k);
        double mean = m.mean();
        int h = m.height();
        int w = m.width();
        boolean[] seen = new boolean[h * w];
        List<Patch> out = new ArrayList<>();
        int[] stack = new int[h * w];
        for (int start = 0; start < h * w; start++) {
            if (seen[start] || !(m.norms()[start] > t)) {
                continue;
            }
            int top = h;
            int left = w;
            int bottom = -1;
            int right = -1;
            int n = 0;
            double sum = 0;
            double peak = 0;
            int sp = 0;
            stack[sp++] = start;
            seen[start] = true;
            while (sp > 0) {
                int p = stack[--sp];
                int r = p / w;
                int c = p % w;
                top = Math.min(top, r);
                bottom = Math.max(bottom, r);
                left = Math.min(left, c);
                right = Math.max(right, c);
                n++;
                sum += m.norms()[p];
                peak = Math.max(peak, m.norms()[p]);
                for (int dr = -1; dr <= 1; dr++) {
                    for (int dc = -1; dc <= 1; dc++) {
                        int rr = r + dr;
                        int cc = c + dc;
                        int q = rr * w + cc;
                        if (rr >= 0 && rr < h && cc >= 0 && cc < w && !seen[q] && m.norms()[q] > t) {
                            seen[q] = true;
                            stack[sp++] = q;
                        }
                    }
                }
            }
            out.add(new Patch(top, left, bottom - top + 1, right - left + 1, n, sum / n / mean, peak / mean));
        }
        return out;
    }
}
