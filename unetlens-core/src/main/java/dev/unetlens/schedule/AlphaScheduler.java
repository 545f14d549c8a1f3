package dev.unetlens.schedule;

import ai.djl.ndarray.NDArray;

/**
 * The ᾱ-parameterised, integer-timestep schedulers (DDIM, PNDM): no input scaling, unit initial noise, DDPM's
 * {@code add_noise}.
 */
abstract class AlphaScheduler extends AbstractScheduler {
    /** ᾱ_t, float32. */
    protected final float[] alphasCumprod;
    /** ᾱ used "before" t = 0 on the last step: 1 with {@code set_alpha_to_one}, else ᾱ₀. */
    protected final float finalAlphaCumprod;

    AlphaScheduler(SchedulerConfig config, StepOptions options) {
        super(config, options);
        this.alphasCumprod = config.noise().alphasCumprod();
        this.finalAlphaCumprod = config.alpha().setAlphaToOne() ? 1f : alphasCumprod[0];
    }

    /** Fails, naming the settings, if a timestep falls outside the ᾱ table (e.g. steps_offset pushing it to T). */
    protected final void requireTrainingTimesteps() {
        int numTrain = config.noise().numTrainTimesteps();
        for (double t : timesteps) {
            if (t < 0 || t >= numTrain) {
                throw new dev.unetlens.config.ConfigException("timestep_spacing " + config.spacing().name().toLowerCase(
                        java.util.Locale.ROOT) + " with steps_offset " + config.stepsOffset() + " and " + numInferenceSteps
                        + " steps gives timestep " + (long) t + ", outside [0, num_train_timesteps " + numTrain + ") of "
                        + config.source());
            }
        }
    }

    /** ᾱ at training timestep t, or the final ᾱ for t &lt; 0. */
    protected final float alphaCumprodAt(int t) {
        return t >= 0 ? alphasCumprod[t] : finalAlphaCumprod;
    }

    /** T // N: how far apart the timesteps of an N-step schedule are in DDIM/PLMS's step formula. */
    protected final int stepRatio() {
        return config.noise().numTrainTimesteps() / numInferenceSteps;
    }

    @Override
    public final float[] sigmas() {
        return new float[0];
    }

    @Override
    public final float initNoiseSigma() {
        return 1f;
    }

    @Override
    public final NDArray scaleModelInput(NDArray sample, int stepIndex) {
        checkIndex(stepIndex);
        return sample;
    }

    @Override
    public final NDArray addNoise(NDArray original, NDArray noise, int stepIndex) {
        checkIndex(stepIndex);
        return NoiseSchedule.addNoise(alphasCumprod, original, noise, (long) timesteps[stepIndex]);
    }
}
