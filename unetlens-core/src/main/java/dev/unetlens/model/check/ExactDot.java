package dev.unetlens.model.check;

/**
 * Σ aᵢ·bᵢ and Σ |aᵢ·bᵢ| in float64 over float32 operands, the inner loop of every check. Each product of two floats
 * is exact in float64; the sums run in four interleaved accumulators (independent dependency chains, about four times
 * faster than one), which changes the float64 result by far less than the float32 bound it is compared with
 * ({@link Comparison}: relative 2⁻⁵³·K against 8·√K·2⁻²⁴).
 */
final class ExactDot {
    private ExactDot() {
    }

    /** Writes the sum into {@code out[0]} and the sum of magnitudes into {@code out[1]}. */
    static void dot(float[] a, int aFrom, float[] b, int bFrom, int n, double[] out) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        double m0 = 0, m1 = 0, m2 = 0, m3 = 0;
        int t = 0;
        for (; t + 3 < n; t += 4) {
            double p0 = (double) a[aFrom + t] * b[bFrom + t];
            double p1 = (double) a[aFrom + t + 1] * b[bFrom + t + 1];
            double p2 = (double) a[aFrom + t + 2] * b[bFrom + t + 2];
            double p3 = (double) a[aFrom + t + 3] * b[bFrom + t + 3];
            s0 += p0;
            s1 += p1;
            s2 += p2;
            s3 += p3;
            m0 += Math.abs(p0);
            m1 += Math.abs(p1);
            m2 += Math.abs(p2);
            m3 += Math.abs(p3);
        }
        for (; t < n; t++) {
            double p = (double) a[aFrom + t] * b[bFrom + t];
            s0 += p;
            m0 += Math.abs(p);
        }
        out[0] = (s0 + s1) + (s2 + s3);
        out[1] = (m0 + m1) + (m2 + m3);
    }
}
