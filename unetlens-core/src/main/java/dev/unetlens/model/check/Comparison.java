package dev.unetlens.model.check;

import java.util.Locale;

/**
 * A float32 kernel's outputs at sampled positions set against their float64 sums.
 *
 * <p>A sum of K products computed in float32 in any order, with or without fused multiply-adds, is within
 * λ·√K·u·Σ|wᵢxᵢ| of the exact sum with probability at least 1 − 2·exp(−λ²/2) (Higham and Mary, "A new approach to
 * probabilistic rounding error analysis", SIAM J. Sci. Comput. 41(5), 2019; u = 2⁻²⁴), plus u·|y| for the final
 * rounding. With λ = {@value #LAMBDA} a correct kernel exceeds the bound at a given output with probability below
 * 10⁻¹³; the worst-case bound K·u·Σ|wᵢxᵢ| is √K times looser and would let small errors through. A wrong kernel
 * (the AVX-512 convolutions with Cin not a multiple of 16 are off by 20–40 % of the output) exceeds it by orders of
 * magnitude: the check compares {@link #worstRatio} — error over bound, at the worst output — with 1.
 *
 * @param samples    outputs compared (outputs whose exact value is not finite are not counted)
 * @param failures   outputs beyond the bound
 * @param worstRatio the largest error / bound
 * @param worst      where that was and the numbers, for reports
 */
public record Comparison(int samples, int failures, double worstRatio, String worst) {
    /** λ of the bound. */
    public static final double LAMBDA = 8;
    static final double U = 0x1p-24;

    /** Whether every sample was within its bound (and there was at least one). */
    public boolean passed() {
        return samples > 0 && failures == 0;
    }

    /** Whether nothing could be compared (every exact value was NaN or infinite: non-finite inputs). */
    public boolean inconclusive() {
        return samples == 0;
    }

    /** One line: "12/400 outputs off, worst 4.1e+01 × bound at (…): 0.83 vs 0.26". */
    public String describe() {
        return String.format(Locale.ROOT, "%d/%d outputs beyond the rounding bound, worst %.2g × bound%s",
                failures, samples, worstRatio, worst.isEmpty() ? "" : " at " + worst);
    }

    /** Collects outputs one by one. */
    public static final class Tally {
        private final Arithmetic arithmetic;
        private int samples;
        private int failures;
        private double worstRatio;
        private java.util.function.Supplier<String> worstWhere;
        private float worstGot;
        private double worstExact;

        /** For a float32 kernel. */
        public Tally() {
            this(Arithmetic.FLOAT32);
        }

        /** For a kernel that was asked for {@code arithmetic} (its bound, see {@link Arithmetic}). */
        public Tally(Arithmetic arithmetic) {
            this.arithmetic = arithmetic;
        }

        /**
         * One output: the kernel's value, the exact sum, Σ|terms| and the number of terms.
         *
         * @param where the output's index, described lazily for reports
         */
        public void add(float got, double exact, double absSum, long terms, java.util.function.Supplier<String> where) {
            add(got, exact, absSum, terms, 0, where);
        }

        /** {@link #add}, for an output whose sum includes {@code bias}, added after the products ({@link Arithmetic}). */
        public void add(float got, double exact, double absSum, long terms, double bias,
                        java.util.function.Supplier<String> where) {
            if (!Double.isFinite(exact) || !Double.isFinite(absSum)) {
                return;
            }
            addBounded(got, exact, arithmetic.bound(exact, absSum, terms, bias), where);
        }

        /** One output whose bound the caller derived (a composite operation: {@link AttentionCheck}). */
        public void addBounded(float got, double exact, double bound, java.util.function.Supplier<String> where) {
            if (!Double.isFinite(exact) || !Double.isFinite(bound)) {
                return;
            }
            samples++;
            double ratio = Float.isFinite(got) ? Math.abs(got - exact) / bound : Double.POSITIVE_INFINITY;
            if (ratio > 1) {
                failures++;
            }
            if (ratio > worstRatio || samples == 1) {                        // described only at the end
                worstRatio = ratio;
                worstWhere = where;
                worstGot = got;
                worstExact = exact;
            }
        }

        public Comparison result() {
            return result(true);
        }

        /** The result; with {@code describe} false the worst output is described only if it failed (spot checks). */
        public Comparison result(boolean describe) {
            String worst = worstWhere == null || !(describe || failures > 0) ? ""
                    : worstWhere.get() + String.format(Locale.ROOT, ": %.6g vs exact %.6g", worstGot, worstExact);
            return new Comparison(samples, failures, worstRatio, worst);
        }
    }
}
