package dev.unetlens.model.check;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * An attention core's output, {@code softmax(q·kᵀ·scale)·v}, at sampled query rows against float64 sums, with the
 * rounding bound a correct float32 kernel keeps ({@link #row}, where it is derived). A thorough check takes up to
 * {@value #THOROUGH_GROUPS} (batch, head) groups and {@value #THOROUGH_ROWS} query rows in each, picked as the
 * convolution and linear checks pick theirs ({@link Samples#along}: the edges, the 8- and 16-wide block boundaries,
 * then random ones); a spot check one group and {@value #SPOT_ROWS} rows at random ({@link Samples#random}). Each
 * sampled group's keys and values are copied out once (S·D floats each).
 */
public final class AttentionCheck {
    static final int THOROUGH_GROUPS = 4;
    static final int THOROUGH_ROWS = 16;
    static final int SPOT_ROWS = 2;

    private AttentionCheck() {
    }

    /** q [B, N, T, D], k [B, N, S, D], v [B, N, S, Dv] (any strides), y [B, N, T, Dv]: y against float64. */
    public static Comparison compare(NDArray q, NDArray k, NDArray v, float scale, NDArray y, boolean thorough,
                                     SplittableRandom random) {
        return compare(q, k, v, scale, y, thorough, random, Arithmetic.FLOAT32);
    }

    /**
     * {@link #compare} for a core computed in {@code arithmetic}: in bfloat16 (the explicit kernel's bf16 way) the
     * exact sums are taken over q, k and v rounded to bf16, as the kernel takes them ({@link #row}).
     */
    public static Comparison compare(NDArray q, NDArray k, NDArray v, float scale, NDArray y, boolean thorough,
                                     SplittableRandom random, Arithmetic arithmetic) {
        Shape qs = q.getShape();
        long b = qs.get(0);
        long n = qs.get(1);
        long t = qs.get(2);
        long groups = b * n;
        int[] picked = thorough ? Samples.along(groups, THOROUGH_GROUPS, random) : Samples.random(groups, 1, random);
        Comparison.Tally tally = new Comparison.Tally();
        for (int g : picked) {
            long bi = g / n;
            long ni = g % n;
            float[] kf = arithmetic.inputs(k.get(bi, ni).toFloatArray());      // [S, D]
            float[] vf = arithmetic.inputs(v.get(bi, ni).toFloatArray());      // [S, Dv]
            for (int ti : thorough ? Samples.along(t, THOROUGH_ROWS, random) : Samples.random(t, SPOT_ROWS, random)) {
                float[] qf = arithmetic.inputs(q.get(bi, ni, ti).toFloatArray()); // [D]
                float[] got = y.get(bi, ni, ti).toFloatArray();                // [Dv]
                Row exact = row(qf, kf, vf, scale, arithmetic);
                for (int j = 0; j < got.length; j++) {
                    int jj = j;
                    tally.addBounded(got[j], exact.y()[j], exact.bound()[j],
                            () -> String.format(Locale.ROOT, "(%d, %d, %d, %d)", bi, ni, ti, jj));
                }
            }
        }
        return tally.result(thorough);
    }

    /** One query row's exact outputs and their bounds. */
    public record Row(double[] y, double[] bound) {
    }

    /**
     * One query row of attention, o = softmax(q·kᵀ·scale)·v: q [D], k [S, D], v [S, Dv] (row-major), with the bound
     * of a float32 kernel.
     *
     * <p>u = 2⁻²⁴, λ = {@link Comparison#LAMBDA} (the probabilistic bound of {@link Comparison}: a sum of K terms
     * in float32 is within λ·√K·u·Σ|terms| of the exact sum):
     * <ol>
     *   <li>scores z_s = scale·Σ_d q_d·k_sd, a_s = scale·Σ_d |q_d·k_sd|: off by at most
     *       e_s = λ·√(D+1)·u·a_s + 2u·|z_s| (the dot product, the multiply by scale, the subtraction of the row's
     *       maximum); E = max_s e_s;</li>
     *   <li>probabilities p_s = exp(z_s − m)/Σ_r exp(z_r − m): score errors move p_s by p_s·(δz_s − Σ_r p_r·δz_r),
     *       at most 2E·p_s; their own rounding adds p_s·(λ·√(S+1) + 4 + 2·⌈S/32⌉)·u — the exp (≤ 2 ulp), the sum of S
     *       positive terms, the division, and, in a flash kernel, one rescale (an exp and a multiply) of the running
     *       sums per key block of at least 32 keys; ρ = 2E + that factor;</li>
     *   <li>the output o_j = Σ_s p_s·v_sj, S terms: off by at most (ρ + λ·√(S+1)·u)·Σ_s p_s·|v_sj| + u·|o_j|.</li>
     * </ol>
     * First order in u (the second-order terms are below u² of the same sums). A kernel that mixes the wrong keys,
     * drops a block or mis-scales a row is off by a fraction of Σ_s p_s·|v_sj| itself, thousands of times the bound.
     */
    public static Row row(float[] q, float[] k, float[] v, double scale) {
        return row(q, k, v, scale, Arithmetic.FLOAT32);
    }

    /**
     * {@link #row} for a kernel that computed in {@code arithmetic}. In bfloat16 (q, k, v given already rounded to
     * bf16; products accumulated in float32, each product's output written in bf16, unit roundoff u₁₆ = 2⁻⁸, as
     * {@link Arithmetic#BFLOAT16} describes) three roundings add: the scores' bf16 output, u₁₆·|z_s| more in e_s; the
     * probabilities cast to bf16 before P·V, u₁₆ more in ρ; and the output's bf16 write, u₁₆·|o_j| beside u·|o_j|,
     * with the first-order sum taken (1 + 2u₁₆) times for the second-order terms.
     */
    public static Row row(float[] q, float[] k, float[] v, double scale, Arithmetic arithmetic) {
        double u16 = arithmetic == Arithmetic.BFLOAT16 ? Arithmetic.U_BF16 : 0;
        double u = Comparison.U;
        double lambda = Comparison.LAMBDA;
        int d = q.length;
        int s = k.length / d;
        int dv = v.length / s;
        double[] z = new double[s];
        double max = Double.NEGATIVE_INFINITY;
        double e = 0;
        for (int r = 0; r < s; r++) {
            double sum = 0;
            double abs = 0;
            for (int c = 0; c < d; c++) {
                double x = (double) q[c] * k[r * d + c];
                sum += x;
                abs += Math.abs(x);
            }
            z[r] = sum * scale;
            e = Math.max(e, lambda * Math.sqrt(d + 1.0) * u * abs * scale + (2 * u + u16) * Math.abs(z[r]));
            max = Math.max(max, z[r]);
        }
        double total = 0;
        for (int r = 0; r < s; r++) {
            z[r] = Math.exp(z[r] - max);                                       // z now holds the unnormalised p
            total += z[r];
        }
        double rho = 2 * e + (lambda * Math.sqrt(s + 1.0) + 4 + 2 * Math.ceil(s / 32.0)) * u + u16;
        double[] y = new double[dv];
        double[] bound = new double[dv];
        for (int j = 0; j < dv; j++) {
            double o = 0;
            double abs = 0;
            for (int r = 0; r < s; r++) {
                double w = z[r] / total;
                double x = v[r * dv + j];
                o += w * x;
                abs += w * Math.abs(x);
            }
            y[j] = o;
            double first = (rho + lambda * Math.sqrt(s + 1.0) * u) * abs + (u + u16) * Math.abs(o);
            bound[j] = (u16 == 0 ? first : first * (1 + 2 * u16)) + Float.MIN_NORMAL;
        }
        return new Row(y, bound);
    }
}
