package dev.unetlens.schedule;

import ai.djl.ndarray.NDArray;
import dev.unetlens.rng.NoiseSource;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.DoubleUnaryOperator;

/**
 * diffusers {@code LMSDiscreteScheduler}, k-diffusion's {@code sample_lms}: a linear multistep (Adams–Bashforth
 * type) method of order 4 on the probability-flow ODE dx/dσ = (x − x̂₀)/σ (Karras et al. 2022), its
 * coefficients the integrals over [σ_i, σ_{i+1}] of the Lagrange basis polynomials through the last four σ's.
 * diffusers integrates them with {@code scipy.integrate.quad}; here {@link GaussKronrod} does, with the integrand
 * evaluated in float32 as diffusers' torch code evaluates it. Order min(i + 1, 4) at step i.
 *
 * <p>Stateful: holds the last four derivatives.
 */
public final class LmsScheduler extends SigmaScheduler {
    private static final int ORDER = 4;
    private final Deque<NDArray> derivatives = new ArrayDeque<>();   // newest last

    LmsScheduler(SchedulerConfig config) {
        super(config, StepOptions.DEFAULT);
    }

    @Override
    protected boolean doubleKarrasTimesteps() {
        return true;
    }

    @Override
    protected void clearHistory() {
        derivatives.clear();
    }

    /**
     * Linear multistep step.
     *
     * <pre>
     * variable     symbol
     * sigma        σ_i
     * x0           x̂₀ = D(x; σ_i)
     * d            d_i = (x − x̂₀)/σ_i
     * coeff[k]     c_k = ∫_{σ_i}^{σ_{i+1}} ∏_{m≠k} (τ − σ_{i−m})/(σ_{i−k} − σ_{i−m}) dτ
     * </pre>
     */
    @Override
    public StepOutput step(NDArray modelOutput, int stepIndex, NDArray sample, NoiseSource noise) {
        beginStep(stepIndex, true);
        float sigma = sigmas[stepIndex];
        // 1. x̂₀ and the derivative d_i = (x − x̂₀)/σ_i
        NDArray x0 = predictOriginal(modelOutput, sample, sigma, sigma);
        NDArray d = sample.sub(x0).div(sigma);
        if (derivatives.size() == ORDER) {
            release(derivatives.removeFirst());
        }
        derivatives.addLast(hold(d));
        // 2. the order and the Lagrange-basis integrals c_k
        int order = Math.min(stepIndex + 1, ORDER);
        // 3. x_{i+1} = x_i + Σ_k c_k·d_{i−k} (the sum stops at the derivatives held, as diffusers' zip does)
        NDArray sum = null;
        int k = 0;
        for (NDArray dk : derivatives.reversed()) {
            if (k == order) {
                break;
            }
            NDArray term = dk.mul((float) coefficient(order, stepIndex, k));
            sum = sum == null ? term : sum.add(term);
            k++;
        }
        return new StepOutput(sample.add(sum), x0);
    }

    /** diffusers {@code get_lms_coefficient(order, t, current_order)}, the integrand in float32 as torch computes it. */
    private double coefficient(int order, int t, int current) {
        DoubleUnaryOperator basis = tau -> {
            float prod = 1f;
            for (int m = 0; m < order; m++) {
                if (m != current) {
                    prod *= ((float) tau - sigmas[t - m]) / (sigmas[t - current] - sigmas[t - m]);
                }
            }
            return prod;
        };
        return GaussKronrod.integrate(basis, sigmas[t], sigmas[t + 1], 1.49e-8, 1e-4);
    }
}
