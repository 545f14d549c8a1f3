package dev.unetlens.analysis.stats;

/**
 * The element-wise mean of many equally shaped arrays, as a float64 running sum: memory is one array of the shape,
 * whatever the number of arrays.
 */
public final class RunningMean {
    private final double[] sum;
    private long n;

    public RunningMean(int size) {
        sum = new double[size];
    }

    public int size() {
        return sum.length;
    }

    public long count() {
        return n;
    }

    /** Adds {@code rows} arrays stored one after another in {@code values}. */
    public void add(float[] values, int rows) {
        if (values.length != (long) rows * sum.length) {
            throw new IllegalArgumentException(rows + " rows of " + sum.length + " need " + (long) rows * sum.length
                    + " values, got " + values.length);
        }
        for (int r = 0; r < rows; r++) {
            int base = r * sum.length;
            for (int i = 0; i < sum.length; i++) {
                sum[i] += values[base + i];
            }
        }
        n += rows;
    }

    /** Adds one array of float64 values. */
    public void add(double[] values) {
        if (values.length != sum.length) {
            throw new IllegalArgumentException("need " + sum.length + " values, got " + values.length);
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] += values[i];
        }
        n++;
    }

    public double[] mean() {
        if (n == 0) {
            throw new IllegalStateException("the mean of nothing");
        }
        double[] m = new double[sum.length];
        for (int i = 0; i < m.length; i++) {
            m[i] = sum[i] / n;
        }
        return m;
    }
}
