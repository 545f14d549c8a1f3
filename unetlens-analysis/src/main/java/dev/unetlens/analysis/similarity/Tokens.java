package dev.unetlens.analysis.similarity;

/**
 * A map's tokens: the C-vector at each of the P = H·W positions, stored channel-major as [C, P] (position
 * p = row·W + col), float64.
 *
 * @param values   [C·P]: value of channel c at position p at index c·P + p
 * @param channels C
 * @param height   H
 * @param width    W
 */
public record Tokens(double[] values, int channels, int height, int width) {
    public Tokens {
        if ((long) channels * height * width != values.length) {
            throw new IllegalArgumentException("tokens [" + channels + ", " + height + ", " + width + "] need "
                    + (long) channels * height * width + " values, got " + values.length);
        }
    }

    public int positions() {
        return height * width;
    }

    /** The C-vector at position p. */
    public double[] token(int p) {
        int n = positions();
        double[] v = new double[channels];
        for (int c = 0; c < channels; c++) {
            v[c] = values[c * n + p];
        }
        return v;
    }

    /** The mean of every channel over all positions: [C]. */
    public double[] channelMeans() {
        int n = positions();
        double[] m = new double[channels];
        for (int c = 0; c < channels; c++) {
            double s = 0;
            for (int p = 0; p < n; p++) {
                s += values[c * n + p];
            }
            m[c] = s / n;
        }
        return m;
    }

    /** Every token minus {@code m} (a C-vector). */
    public Tokens minus(double[] m) {
        int n = positions();
        double[] v = new double[values.length];
        for (int c = 0; c < channels; c++) {
            for (int p = 0; p < n; p++) {
                v[c * n + p] = values[c * n + p] - m[c];
            }
        }
        return new Tokens(v, channels, height, width);
    }
}
