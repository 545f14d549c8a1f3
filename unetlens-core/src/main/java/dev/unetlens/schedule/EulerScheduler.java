package dev.unetlens.schedule;

import ai.djl.ndarray.NDArray;
import dev.unetlens.UnetlensException;
import dev.unetlens.rng.NoiseSource;

/**
 * diffusers {@code EulerDiscreteScheduler}: Karras et al. (2022) Algorithm 2 with a first-order (Euler) step, the
 * optional "churn" (s_churn, s_tmin, s_tmax, s_noise of {@link StepOptions}) raising σ to σ̂ = σ·(1 + γ) first.
 *
 * <p>Every step draws one N(0, I) tensor of the output's shape from the noise source, whether churn uses it or not,
 * as diffusers does; the pipelines' generator streams depend on that. Stateless between steps apart from the schedule.
 */
public final class EulerScheduler extends SigmaScheduler {

    EulerScheduler(SchedulerConfig config, StepOptions options) {
        super(config, options);
    }

    /**
     * Euler step with churn (Karras et al. 2022, Algorithm 2 without its second-order correction).
     *
     * <pre>
     * variable     symbol
     * sigma        σ_i
     * gamma        γ_i = min(S_churn/N, √2 − 1) if S_tmin ≤ σ_i ≤ S_tmax else 0
     * sigmaHat     σ̂_i = σ_i·(1 + γ_i)
     * x0           x̂₀ = D(x̂; σ̂)         the denoised estimate
     * d            d_i = (x̂ − x̂₀)/σ̂_i   the ODE derivative dx/dσ
     * dt           σ_{i+1} − σ̂_i
     * </pre>
     */
    @Override
    public StepOutput step(NDArray modelOutput, int stepIndex, NDArray sample, NoiseSource noise) {
        beginStep(stepIndex, false);
        if (noise == null) {
            throw new UnetlensException("EulerDiscreteScheduler draws noise every step: pass the run's generator");
        }
        float sigma = sigmas[stepIndex];
        // 1. γ_i
        boolean churn = (float) options.sTmin() <= sigma && sigma <= (float) options.sTmax();
        double gamma = churn ? Math.min(options.sChurn() / (sigmas.length - 1), Math.sqrt(2) - 1) : 0.0;
        // 2. ε_i ~ N(0, S_noise² I), drawn every step
        NDArray eps = noise.randn(modelOutput.getManager(), modelOutput.getShape()).mul((float) options.sNoise());
        // 3. σ̂_i = σ_i(1 + γ_i); x̂ = x + √(σ̂² − σ²)·ε_i
        float sigmaHat = sigma * (float) (gamma + 1);
        NDArray x = sample;
        if (gamma > 0) {
            x = x.add(eps.mul((float) Math.sqrt(sigmaHat * sigmaHat - sigma * sigma)));
        }
        // 4. x̂₀ = D(x̂; σ̂)
        NDArray x0 = predictOriginal(modelOutput, x, sigma, sigmaHat);
        // 5. d_i = (x̂ − x̂₀)/σ̂_i
        NDArray d = x.sub(x0).div(sigmaHat);
        // 6. x_{i+1} = x̂ + (σ_{i+1} − σ̂_i)·d_i
        float dt = sigmas[stepIndex + 1] - sigmaHat;
        return new StepOutput(x.add(d.mul(dt)), x0);
    }
}
