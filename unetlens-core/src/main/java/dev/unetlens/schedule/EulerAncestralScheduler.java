package dev.unetlens.schedule;

import ai.djl.ndarray.NDArray;
import dev.unetlens.UnetlensException;
import dev.unetlens.rng.NoiseSource;

/**
 * diffusers {@code EulerAncestralDiscreteScheduler}, k-diffusion's {@code sample_euler_ancestral}: an Euler step down
 * to σ_down followed by fresh noise of standard deviation σ_up, so that σ_down² + σ_up² = σ_{i+1}² (ancestral
 * sampling, Song et al. 2021, "Score-Based Generative Modeling through SDEs", §4.1 / appendix; η = 1).
 *
 * <p>Draws one N(0, I) tensor per step (also on the last, where σ_up = 0), after computing the deterministic part.
 * Stateless between steps apart from the schedule.
 */
public final class EulerAncestralScheduler extends SigmaScheduler {

    EulerAncestralScheduler(SchedulerConfig config) {
        super(config, StepOptions.DEFAULT);
    }

    /**
     * Ancestral Euler step.
     *
     * <pre>
     * variable     symbol
     * sigma, to    σ_i, σ_{i+1}
     * up           σ_up = √(σ_{i+1}²·(σ_i² − σ_{i+1}²)/σ_i²)
     * down         σ_down = √(σ_{i+1}² − σ_up²)
     * x0           x̂₀ = D(x; σ_i)
     * d            (x − x̂₀)/σ_i
     * z            N(0, I)
     * </pre>
     */
    @Override
    public StepOutput step(NDArray modelOutput, int stepIndex, NDArray sample, NoiseSource noise) {
        beginStep(stepIndex, false);
        if (noise == null) {
            throw new UnetlensException("EulerAncestralDiscreteScheduler draws noise every step: pass the run's generator");
        }
        float sigma = sigmas[stepIndex];
        float to = sigmas[stepIndex + 1];
        // 1. x̂₀ = D(x; σ_i)
        NDArray x0 = predictOriginal(modelOutput, sample, sigma, sigma);
        // 2. σ_up, σ_down
        float up = (float) Math.sqrt(to * to * (sigma * sigma - to * to) / (sigma * sigma));
        float down = (float) Math.sqrt(to * to - up * up);
        // 3. Euler step to σ_down: x + (σ_down − σ_i)·(x − x̂₀)/σ_i
        NDArray d = sample.sub(x0).div(sigma);
        NDArray prev = sample.add(d.mul(down - sigma));
        // 4. + σ_up·z
        NDArray z = noise.randn(modelOutput.getManager(), modelOutput.getShape());
        return new StepOutput(prev.add(z.mul(up)), x0);
    }
}
