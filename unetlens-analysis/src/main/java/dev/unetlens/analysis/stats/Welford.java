package dev.unetlens.analysis.stats;

/**
 * Mean and variance of many equally shaped arrays, element by element, in one pass (Welford 1962): after each
 * array x, n ← n + 1, δ = x − mean, mean ← mean + δ/n, M₂ ← M₂ + δ·(x − mean). Memory is three arrays of the shape,
 * whatever the number of arrays; the float64 updates keep it accurate where summing squares would cancel.
 */
public final class Welford {
    private final double[] mean;
    private final double[] m2;
    private long n;

    /** For arrays of {@code size} elements. */
    public Welford(int size) {
        mean = new double[size];
        m2 = new double[size];
    }

    public int size() {
        return mean.length;
    }

    /** How many arrays were added. */
    public long count() {
        return n;
    }

    /** Adds {@code rows} arrays stored one after another in {@code values} (rows × size). */
    public void add(float[] values, int rows) {
        if (values.length != (long) rows * mean.length) {
            throw new IllegalArgumentException(rows + " rows of " + mean.length + " need " + (long) rows * mean.length
                    + " values, got " + values.length);
        }
        for (int r = 0; r < rows; r++) {
            n++;
            int base = r * mean.length;
            for (int i = 0; i < mean.length; i++) {
                double x = values[base + i];
                double d = x - mean[i];
                mean[i] += d / n;
                m2[i] += d * (x - mean[i]);
            }
        }
    }

    public double[] mean() {
        return mean.clone();
    }

    /**
     * The variance Σ(x − mean)² / (n − ddof): ddof 1 is the unbiased estimate (torch's {@code std()} default),
     * ddof 0 the population variance. Needs n &gt; ddof.
     */
    public double[] variance(int ddof) {
        if (n <= ddof) {
            throw new IllegalStateException("a variance with ddof " + ddof + " needs more than " + ddof + " arrays, got " + n);
        }
        double[] v = new double[mean.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = m2[i] / (n - ddof);
        }
        return v;
    }

    /** √{@link #variance}. */
    public double[] std(int ddof) {
        double[] v = variance(ddof);
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.sqrt(v[i]);
        }
        return v;
    }
}
