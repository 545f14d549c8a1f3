package dev.unetlens.schedule;

import dev.unetlens.schedule.SchedulerConfig.Spacing;

/**
 * The numpy side of diffusers' {@code set_timesteps}: timestep spacing, σ interpolation, the Karras ramp and σ → t,
 * written to give numpy 1.24's float64 results (same operations in the same order; numpy's {@code round} is
 * half-to-even, {@link Math#rint}).
 */
final class Timesteps {
    /** ρ of the Karras et al. (2022) schedule, eq. 5. */
    static final double KARRAS_RHO = 7.0;

    private Timesteps() {
    }

    /**
     * The inference timesteps in descending order for {@code timestep_spacing} (diffusers' three variants; with
     * {@code roundLinspace} false the linspace values are kept fractional and rounded to float32, as the Euler /
     * LMS schedulers do):
     * <ul>
     *   <li>linspace: {@code linspace(0, T−1, N)} reversed;</li>
     *   <li>leading: {@code arange(N)·(T // N)} reversed, plus {@code steps_offset};</li>
     *   <li>trailing: {@code round(arange(T, 0, −T/N)) − 1}.</li>
     * </ul>
     */
    static double[] spaced(Spacing spacing, int numTrain, int n, int stepsOffset, boolean roundLinspace) {
        double[] t = new double[n];
        switch (spacing) {
            case LINSPACE -> {
                double[] lin = linspace(0, numTrain - 1, n);
                for (int i = 0; i < n; i++) {
                    double v = lin[n - 1 - i];
                    t[i] = roundLinspace ? Math.rint(v) : (float) v;
                }
            }
            case LEADING -> {
                int ratio = numTrain / n;
                for (int i = 0; i < n; i++) {
                    t[i] = (double) (n - 1 - i) * ratio + stepsOffset;
                }
            }
            case TRAILING -> {
                double[] ar = arange(numTrain, 0, -((double) numTrain / n));
                if (ar.length != n) {
                    throw new IllegalStateException("trailing spacing gave " + ar.length + " timesteps for " + n);
                }
                for (int i = 0; i < n; i++) {
                    t[i] = Math.rint(ar[i]) - 1;
                }
            }
        }
        return t;
    }

    /** {@code numpy.linspace(start, stop, num)} in float64: i·step + start, the last exactly stop. */
    static double[] linspace(double start, double stop, int num) {
        double[] y = new double[num];
        int div = num - 1;
        double delta = stop - start;
        double step = div > 0 ? delta / div : Double.NaN;
        for (int i = 0; i < num; i++) {
            y[i] = (div > 0 ? i * step : i * delta) + start;
        }
        if (num > 1) {
            y[num - 1] = stop;
        }
        return y;
    }

    /**
     * {@code numpy.arange(start, stop, step)} in float64: length ⌈(stop − start)/step⌉; element 1 is start + step and
     * element i ≥ 2 is start + i·((start + step) − start), as numpy's fill does.
     */
    static double[] arange(double start, double stop, double step) {
        int len = (int) Math.max(0, Math.ceil((stop - start) / step));
        double[] y = new double[len];
        if (len == 0) {
            return y;
        }
        y[0] = start;
        if (len > 1) {
            y[1] = start + step;
        }
        double delta = (start + step) - start;
        for (int i = 2; i < len; i++) {
            y[i] = start + i * delta;
        }
        return y;
    }

    /**
     * {@code numpy.interp(x, arange(len(fp)), fp)} in float64 on float32 table values: exact at the knots, the
     * end values outside, slope·(x − j) + fp[j] in between.
     */
    static double interp(double x, float[] fp) {
        int last = fp.length - 1;
        if (Double.isNaN(x)) {
            return x;
        }
        if (x < 0) {
            return fp[0];
        }
        if (x >= last) {
            return fp[last];
        }
        int j = (int) Math.floor(x);
        if (x == j) {
            return fp[j];
        }
        double slope = ((double) fp[j + 1] - fp[j]) / 1.0;
        return slope * (x - j) + fp[j];
    }

    /**
     * The Karras et al. (2022) noise levels, eq. 5: σ_i = (σ_max^{1/ρ} + i/(N−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ,
     * i = 0…N−1, with diffusers' numpy ramp {@code linspace(0, 1, N)}.
     */
    static double[] karras(double sigmaMin, double sigmaMax, int n) {
        double[] ramp = linspace(0, 1, n);
        double minInvRho = Math.pow(sigmaMin, 1 / KARRAS_RHO);
        double maxInvRho = Math.pow(sigmaMax, 1 / KARRAS_RHO);
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            s[i] = Math.pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), KARRAS_RHO);
        }
        return s;
    }

    /** {@code np.log} of a float32 table, kept in float32 ({@code log_sigmas}). */
    static float[] logOf(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) Math.log(x[i]);
        }
        return out;
    }

    /**
     * diffusers {@code _sigma_to_t}: the fractional training timestep whose σ is {@code sigma}, by linear
     * interpolation of log σ between the two neighbouring training steps. numpy 1.24's value-based casting keeps
     * the float64 scalar log σ from promoting the float32 table, so the distances and the weight w are float32;
     * only the final (1 − w)·low + w·high is float64.
     */
    static double sigmaToT(double sigma, float[] logSigmas) {
        float logSigma = (float) Math.log(Math.max(sigma, 1e-10));
        int low = 0;                                       // last index with log σ_i ≤ log σ, else 0
        for (int i = 0; i < logSigmas.length; i++) {
            if (logSigma - logSigmas[i] >= 0) {
                low = i;
            }
        }
        low = Math.min(low, logSigmas.length - 2);
        int high = low + 1;
        float lo = logSigmas[low];
        float w = (lo - logSigma) / (lo - logSigmas[high]);
        w = Math.min(Math.max(w, 0f), 1f);
        return (double) (1f - w) * low + (double) w * high;
    }
}
