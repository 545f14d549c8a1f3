package dev.unetlens.schedule;

import ai.djl.ndarray.NDArray;
import dev.unetlens.schedule.SchedulerConfig.Interpolation;
import dev.unetlens.schedule.SchedulerConfig.Prediction;
import dev.unetlens.schedule.SchedulerConfig.Spacing;
import dev.unetlens.schedule.SchedulerConfig.TimestepType;

/**
 * The σ-parameterised discrete schedulers of the k-diffusion family (Euler, Euler ancestral, LMS): x_t = x₀ + σ_t·ε
 * with σ_t = √((1 − ᾱ_t)/ᾱ_t) (Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative
 * Models", Table 1 "VP"), the model fed x / √(σ² + 1).
 *
 * <p>The schedule follows diffusers' {@code set_timesteps}: spaced (possibly fractional) timesteps, σ by linear
 * interpolation of the training σ table in t (numpy {@code interp}, float64), optionally replaced by the Karras ramp
 * (then t recovered from σ), float32, with a final σ = 0 appended.
 */
abstract class SigmaScheduler extends AbstractScheduler {
    /** σ of the training timesteps 0…T−1, float32. */
    protected final float[] trainSigmas;
    /** σ_i per step, then 0; float32. */
    protected float[] sigmas;
    private float initNoiseSigma;

    SigmaScheduler(SchedulerConfig config, StepOptions options) {
        super(config, options);
        this.trainSigmas = NoiseSchedule.sigmasOf(config.noise().alphasCumprodForSigmas());
    }

    /** True where diffusers keeps the Karras-derived timesteps in float64 (LMS) rather than float32 (Euler). */
    protected boolean doubleKarrasTimesteps() {
        return false;
    }

    @Override
    protected final void computeSchedule(int n) {
        SchedulerConfig.SigmaOptions o = config.sigma();
        double[] ts = Timesteps.spaced(config.spacing(), config.noise().numTrainTimesteps(), n, config.stepsOffset(), false);
        double[] s = o.interpolation() == Interpolation.LOG_LINEAR ? logLinearSigmas(n) : interpolatedSigmas(ts);
        if (o.karras()) {
            s = Timesteps.karras(Double.isNaN(o.sigmaMin()) ? s[s.length - 1] : o.sigmaMin(),
                    Double.isNaN(o.sigmaMax()) ? s[0] : o.sigmaMax(), n);
            float[] logSigmas = Timesteps.logOf(trainSigmas);
            ts = new double[s.length];
            for (int i = 0; i < s.length; i++) {
                double t = Timesteps.sigmaToT(s[i], logSigmas);
                ts[i] = doubleKarrasTimesteps() ? t : (float) t;
            }
        }
        sigmas = new float[s.length + 1];
        for (int i = 0; i < s.length; i++) {
            sigmas[i] = (float) s[i];
        }
        if (o.timestepType() == TimestepType.CONTINUOUS && config.prediction() == Prediction.V_PREDICTION) {
            ts = new double[s.length];
            for (int i = 0; i < s.length; i++) {
                ts[i] = 0.25f * (float) Math.log(sigmas[i]);     // the model's "timestep" is ¼·log σ
            }
        }
        timesteps = ts;
        initNoiseSigma = initNoiseSigma(sigmas, config.spacing());
    }

    private double[] interpolatedSigmas(double[] ts) {
        double[] s = new double[ts.length];
        for (int i = 0; i < ts.length; i++) {
            s[i] = Timesteps.interp(ts[i], trainSigmas);
        }
        return s;
    }

    /**
     * Euler's {@code interpolation_type="log_linear"}: exp of a float32 torch linspace from log σ_max to log σ_min
     * with N + 1 points (as diffusers has it: the schedule then has N + 2 σ's for N timesteps).
     */
    private double[] logLinearSigmas(int n) {
        float[] lin = NoiseSchedule.torchLinspace((float) Math.log(trainSigmas[trainSigmas.length - 1]),
                (float) Math.log(trainSigmas[0]), n + 1);
        double[] s = new double[lin.length];
        for (int i = 0; i < lin.length; i++) {
            s[i] = (float) Math.exp(lin[i]);
        }
        return s;
    }

    /** σ_max for "linspace" and "trailing" spacing, √(σ_max² + 1) for "leading" (diffusers' {@code init_noise_sigma}). */
    private static float initNoiseSigma(float[] sigmas, Spacing spacing) {
        float max = 0f;
        for (float s : sigmas) {
            max = Math.max(max, s);
        }
        return spacing == Spacing.LEADING ? (float) Math.sqrt(max * max + 1f) : max;
    }

    @Override
    public final float[] sigmas() {
        requireTimesteps();
        return sigmas.clone();
    }

    @Override
    public final float initNoiseSigma() {
        requireTimesteps();
        return initNoiseSigma;
    }

    /** x / √(σ_i² + 1): the VP-preconditioned model input c_in (Karras et al. 2022, Table 1). */
    @Override
    public final NDArray scaleModelInput(NDArray sample, int stepIndex) {
        checkIndex(stepIndex);
        float sigma = sigmas[stepIndex];
        return sample.div((float) Math.sqrt(sigma * sigma + 1f));
    }

    /** x₀ + σ_i·ε. */
    @Override
    public final NDArray addNoise(NDArray original, NDArray noise, int stepIndex) {
        checkIndex(stepIndex);
        return original.add(noise.mul(sigmas[stepIndex]));
    }

    /**
     * x̂₀ from the model output at noise level σ: ε ⇒ x − σ·ε; v ⇒ v·(−σ/√(σ²+1)) + x/(σ²+1); sample ⇒ itself.
     * {@code sigmaEps} is the σ the ε-prediction is scaled by (Euler's σ̂ with churn).
     */
    protected final NDArray predictOriginal(NDArray modelOutput, NDArray sample, float sigma, float sigmaEps) {
        return switch (config.prediction()) {
            case EPSILON -> sample.sub(modelOutput.mul(sigmaEps));
            case V_PREDICTION -> modelOutput.mul(-sigma / (float) Math.sqrt(sigma * sigma + 1f))
                    .add(sample.div(sigma * sigma + 1f));
            case SAMPLE -> modelOutput;
        };
    }
}
