package dev.unetlens.viz;

/** Finite minimum and maximum of arrays (NaN and ±∞ are skipped, as they carry no colour). */
public final class Ranges {
    private Ranges() {
    }

    /** {lo, hi} over the finite values; {NaN, NaN} when there is none. */
    public static double[] finiteRange(float[] values) {
        return finiteRange(values, 0, values.length);
    }

    /** {lo, hi} over the finite values of {@code values[from, to)}; {NaN, NaN} when there is none. */
    public static double[] finiteRange(float[] values, int from, int to) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) {
            float v = values[i];
            if (Float.isFinite(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        return lo > hi ? new double[] {Double.NaN, Double.NaN} : new double[] {lo, hi};
    }

    /** The union of two ranges (NaN ranges are ignored). */
    public static double[] union(double[] a, double[] b) {
        if (Double.isNaN(a[0])) {
            return b.clone();
        }
        if (Double.isNaN(b[0])) {
            return a.clone();
        }
        return new double[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])};
    }
}
