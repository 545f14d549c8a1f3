package dev.unetlens.model;

import dev.unetlens.model.check.Comparison;

/**
 * Plain float64 loops for the sweeps, independent of libtorch: each returns the exact value and Σ|terms| of every
 * output, so {@link Comparison.Tally} can hold a float32 result to the rounding bound a correct kernel keeps.
 */
final class Reference64 {
    /** Exact values and the sums of |terms| behind them (norms: the scale of the terms, see there). */
    record Sums(double[] exact, double[] abs, long terms) {
        /** Every output of {@code got} against these sums. */
        Comparison compare(float[] got) {
            return compare(got, dev.unetlens.model.check.Arithmetic.FLOAT32, i -> 0);
        }

        /**
         * Every output of a kernel asked for {@code arithmetic} against these sums (of the inputs it computed with),
         * {@code bias} giving each flat output's bias (0 if none).
         */
        Comparison compare(float[] got, dev.unetlens.model.check.Arithmetic arithmetic,
                           java.util.function.IntToDoubleFunction bias) {
            Comparison.Tally tally = new Comparison.Tally(arithmetic);
            for (int i = 0; i < got.length; i++) {
                int at = i;
                tally.add(got[i], exact[i], abs[i], terms, bias.applyAsDouble(i), () -> "flat index " + at);
            }
            return tally.result();
        }
    }

    private Reference64() {
    }

    /** y[n, o, i, j] = b[o] + Σ w[o, c, ky, kx] · x[n, c, i·s − p + ky, j·s − p + kx]; x [B, C, H, W], w [O, C, k, k]. */
    static Sums conv2d(float[] x, float[] w, float[] b, int batch, int cin, int h, int wd, int cout, int k,
                       int stride, int pad) {
        int ho = (h + 2 * pad - k) / stride + 1;
        int wo = (wd + 2 * pad - k) / stride + 1;
        double[] y = new double[batch * cout * ho * wo];
        double[] a = new double[y.length];
        for (int n = 0; n < batch; n++) {
            for (int o = 0; o < cout; o++) {
                for (int i = 0; i < ho; i++) {
                    for (int j = 0; j < wo; j++) {
                        double sum = b[o];
                        double abs = Math.abs(b[o]);
                        for (int c = 0; c < cin; c++) {
                            for (int ky = 0; ky < k; ky++) {
                                int iy = i * stride - pad + ky;
                                if (iy < 0 || iy >= h) {
                                    continue;
                                }
                                for (int kx = 0; kx < k; kx++) {
                                    int ix = j * stride - pad + kx;
                                    if (ix >= 0 && ix < wd) {
                                        double p = (double) w[((o * cin + c) * k + ky) * k + kx]
                                                * x[((n * cin + c) * h + iy) * wd + ix];
                                        sum += p;
                                        abs += Math.abs(p);
                                    }
                                }
                            }
                        }
                        int at = ((n * cout + o) * ho + i) * wo + j;
                        y[at] = sum;
                        a[at] = abs;
                    }
                }
            }
        }
        return new Sums(y, a, (long) cin * k * k);
    }

    /** y = x·Wᵀ + b: x [R, K], w [O, K], b [O] or null → [R, O]. */
    static Sums linear(float[] x, float[] w, float[] b, int rows, int in, int out) {
        double[] y = new double[rows * out];
        double[] a = new double[y.length];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double sum = b == null ? 0 : b[o];
                double abs = Math.abs(sum);
                for (int t = 0; t < in; t++) {
                    double p = (double) x[r * in + t] * w[o * in + t];
                    sum += p;
                    abs += Math.abs(p);
                }
                y[r * out + o] = sum;
                a[r * out + o] = abs;
            }
        }
        return new Sums(y, a, in);
    }

    /** Batched product: a [G, M, K] · b [G, K, N] → [G, M, N]. */
    static Sums matmul(float[] a, float[] b, int groups, int m, int k, int n) {
        double[] y = new double[groups * m * n];
        double[] s = new double[y.length];
        for (int g = 0; g < groups; g++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    double abs = 0;
                    for (int t = 0; t < k; t++) {
                        double p = (double) a[(g * m + i) * k + t] * b[(g * k + t) * n + j];
                        sum += p;
                        abs += Math.abs(p);
                    }
                    y[(g * m + i) * n + j] = sum;
                    s[(g * m + i) * n + j] = abs;
                }
            }
        }
        return new Sums(y, s, k);
    }

    /**
     * Normalisation of each of {@code rows} runs of {@code width} values, then y = x̂·γ[c] + β[c], where the channel c
     * of value t of a row is {@code channel.applyAsInt(row, t)}. The error of a float32 norm comes from its mean and
     * variance sums over the row: the mean's error, about u·mean|x|, reaches x̂ divided by σ, the variance's scales
     * x̂; so abs is |γ|·(|x̂| + 1 + mean|x|/σ) + |β|, terms the row width.
     */
    static Sums norm(float[] x, float[] gamma, float[] beta, int rows, int width, double eps,
                     java.util.function.IntBinaryOperator channel) {
        double[] y = new double[x.length];
        double[] a = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int t = 0; t < width; t++) {
                mean += x[r * width + t];
            }
            mean /= width;
            double var = 0;
            for (int t = 0; t < width; t++) {
                double d = x[r * width + t] - mean;
                var += d * d;
            }
            var /= width;                                                      // biased, as torch's norms
            double inv = 1 / Math.sqrt(var + eps);
            double meanAbs = 0;
            for (int t = 0; t < width; t++) {
                meanAbs += Math.abs(x[r * width + t]);
            }
            meanAbs /= width;
            for (int t = 0; t < width; t++) {
                int c = channel.applyAsInt(r, t);
                double xhat = (x[r * width + t] - mean) * inv;
                y[r * width + t] = xhat * gamma[c] + beta[c];
                // the float32 mean is off by about u·mean|x|, which x̂ sees divided by σ
                a[r * width + t] = Math.abs(gamma[c]) * (Math.abs(xhat) + 1 + meanAbs * inv) + Math.abs(beta[c]);
            }
        }
        return new Sums(y, a, width);
    }

    /** Exact outputs and the rounding bound a correct float32 kernel keeps at each. */
    record Bounded(double[] exact, double[] bound) {
        /** The largest |got − exact| / bound (above 1: outside the bound), and where. */
        double[] worst(float[] got) {
            double worst = 0;
            int at = -1;
            for (int i = 0; i < got.length; i++) {
                double r = Float.isFinite(got[i]) ? Math.abs(got[i] - exact[i]) / bound[i] : Double.POSITIVE_INFINITY;
                if (r > worst || at < 0) {
                    worst = r;
                    at = i;
                }
            }
            return new double[] {worst, at};
        }
    }

    /**
     * Attention o = softmax(q·kᵀ·scale)·v per group g (g = batch × head): q [G, T, D] at {@code q[qAt.applyAsInt(g,
     * t) + d]}, k and v [G, S, D] likewise, out [G, T, D]; with the bound of a float32 kernel, derived at
     * {@link dev.unetlens.model.check.AttentionCheck#row} (which the run-time checks use too).
     */
    static Bounded attention(float[] q, float[] k, float[] v, int groups, int t, int s, int d, double scale,
                             java.util.function.IntBinaryOperator qAt, java.util.function.IntBinaryOperator kvAt) {
        double[] y = new double[groups * t * d];
        double[] bound = new double[y.length];
        float[] kg = new float[s * d];
        float[] vg = new float[s * d];
        float[] qi = new float[d];
        for (int g = 0; g < groups; g++) {
            for (int r = 0; r < s; r++) {
                System.arraycopy(k, kvAt.applyAsInt(g, r), kg, r * d, d);
                System.arraycopy(v, kvAt.applyAsInt(g, r), vg, r * d, d);
            }
            for (int i = 0; i < t; i++) {
                System.arraycopy(q, qAt.applyAsInt(g, i), qi, 0, d);
                dev.unetlens.model.check.AttentionCheck.Row row = dev.unetlens.model.check.AttentionCheck.row(qi, kg, vg, scale);
                System.arraycopy(row.y(), 0, y, (g * t + i) * d, d);
                System.arraycopy(row.bound(), 0, bound, (g * t + i) * d, d);
            }
        }
        return new Bounded(y, bound);
    }
}
