package dev.unetlens.analysis.stats;

/**
 * A histogram on logarithmic bins: {@code bins} bins between the smallest and the largest positive value, edges
 * 10^(log₁₀ min + k·(log₁₀ max − log₁₀ min)/bins) as {@code np.logspace(log10(min), log10(max), bins + 1)}; each bin
 * holds [left, right), the last also its right edge (numpy's {@code histogram}). Values ≤ 0 have no place on a log
 * axis and are counted apart.
 *
 * @param edges    bins + 1 edges, increasing
 * @param counts   values per bin
 * @param excluded values ≤ 0 (or NaN) left out
 */
public record LogHistogram(double[] edges, long[] counts, long excluded) {

    public static LogHistogram of(double[] values, int bins) {
        if (bins < 1) {
            throw new IllegalArgumentException("a histogram needs at least 1 bin, got " + bins);
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        long excluded = 0;
        for (double v : values) {
            if (v > 0) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            } else {
                excluded++;
            }
        }
        long[] counts = new long[bins];
        if (excluded == values.length) {
            return new LogHistogram(new double[] {Double.NaN, Double.NaN}, new long[1], excluded);
        }
        double a = Math.log10(lo);
        double b = Math.log10(hi);
        double[] edges = new double[bins + 1];
        for (int k = 0; k <= bins; k++) {
            edges[k] = Math.pow(10, a + (b - a) * k / bins);
        }
        for (double v : values) {
            if (v > 0) {
                counts[bin(edges, v)]++;
            }
        }
        return new LogHistogram(edges, counts, excluded);
    }

    /** numpy's rule: the last bin whose left edge is ≤ v, the last bin closed on the right. */
    private static int bin(double[] edges, double v) {
        int bins = edges.length - 1;
        if (v >= edges[bins]) {
            return bins - 1;
        }
        int i = java.util.Arrays.binarySearch(edges, v);
        int k = i >= 0 ? i : -i - 2;
        return Math.clamp(k, 0, bins - 1);
    }
}
