package dev.unetlens.schedule;

import ai.djl.ndarray.NDArray;
import dev.unetlens.UnetlensException;
import dev.unetlens.rng.NoiseSource;

/**
 * diffusers {@code DDIMScheduler} (Song, Meng &amp; Ermon 2020, "Denoising Diffusion Implicit Models"): timesteps
 * spaced over [0, T), the generalised update of eq. 12 with noise weight η ({@link StepOptions#eta()}; η = 0 is
 * deterministic DDIM). Stateless between steps apart from the schedule.
 */
public final class DdimScheduler extends AlphaScheduler {

    DdimScheduler(SchedulerConfig config, StepOptions options) {
        super(config, options);
    }

    @Override
    protected void computeSchedule(int n) {
        timesteps = Timesteps.spaced(config.spacing(), config.noise().numTrainTimesteps(), n, config.stepsOffset(), true);
        requireTrainingTimesteps();
    }

    /**
     * DDIM step, Song et al. (2020) eq. 12 and 16.
     *
     * <pre>
     * variable        symbol
     * t, tPrev        t, t − T/N          (tPrev &lt; 0 ⇒ the final ᾱ)
     * alphaT, aPrev   ᾱ_t, ᾱ_{t−1}
     * betaT           1 − ᾱ_t
     * x0              x̂₀ = f_θ(x_t)       "predicted x₀"
     * eps             ε̂_θ(x_t)
     * std             σ_t(η)
     * </pre>
     */
    @Override
    public StepOutput step(NDArray modelOutput, int stepIndex, NDArray sample, NoiseSource noise) {
        beginStep(stepIndex, false);
        // 1. the previous timestep: t − T/N
        int t = (int) timesteps[stepIndex];
        int tPrev = t - stepRatio();
        // 2. ᾱ_t, ᾱ_{t−1}, 1 − ᾱ_t
        float alphaT = alphasCumprod[t];
        float aPrev = alphaCumprodAt(tPrev);
        float betaT = 1f - alphaT;
        float sqrtA = (float) Math.sqrt(alphaT);
        float sqrtB = (float) Math.sqrt(betaT);
        // 3. x̂₀ and ε̂ from the model output: x̂₀ = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t (eq. 12, "predicted x₀")
        NDArray x0;
        NDArray eps;
        switch (config.prediction()) {
            case EPSILON -> {
                x0 = sample.sub(modelOutput.mul(sqrtB)).div(sqrtA);
                eps = modelOutput;
            }
            case SAMPLE -> {
                x0 = modelOutput;
                eps = sample.sub(x0.mul(sqrtA)).div(sqrtB);
            }
            case V_PREDICTION -> {
                x0 = sample.mul(sqrtA).sub(modelOutput.mul(sqrtB));
                eps = modelOutput.mul(sqrtA).add(sample.mul(sqrtB));
            }
            default -> throw new IllegalStateException();
        }
        // 4. clip x̂₀ to ±clip_sample_range
        if (config.alpha().clipSample()) {
            double r = config.alpha().clipSampleRange();
            x0 = x0.clip(-r, r);
        }
        // 5. σ_t(η) = η·√((1 − ᾱ_{t−1})/(1 − ᾱ_t) · (1 − ᾱ_t/ᾱ_{t−1})) (eq. 16)
        float variance = ((1f - aPrev) / betaT) * (1f - alphaT / aPrev);
        float std = (float) options.eta() * (float) Math.sqrt(variance);
        // 6. "direction pointing to x_t": √(1 − ᾱ_{t−1} − σ_t²)·ε̂
        NDArray direction = eps.mul((float) Math.sqrt(1f - aPrev - std * std));
        // 7. x_{t−1} = √ᾱ_{t−1}·x̂₀ + direction (eq. 12)
        NDArray prev = x0.mul((float) Math.sqrt(aPrev)).add(direction);
        // 8. + σ_t·z, z ~ N(0, I), for η > 0
        if (options.eta() > 0) {
            if (noise == null) {
                throw new UnetlensException("DDIMScheduler with eta > 0 needs a noise source (a TorchGenerator)");
            }
            prev = prev.add(noise.randn(modelOutput.getManager(), modelOutput.getShape()).mul(std));
        }
        return new StepOutput(prev, x0);
    }
}
