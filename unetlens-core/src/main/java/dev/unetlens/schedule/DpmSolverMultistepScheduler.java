package dev.unetlens.schedule;

import ai.djl.ndarray.NDArray;
import dev.unetlens.rng.NoiseSource;
import dev.unetlens.schedule.SchedulerConfig.DpmOptions;
import dev.unetlens.schedule.SchedulerConfig.FinalSigmas;

/**
 * diffusers {@code DPMSolverMultistepScheduler} with {@code algorithm_type="dpmsolver++"} and the midpoint second-order
 * update: DPM-Solver++(2M) of Lu et al. (2022), "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
 * Probabilistic Models", Algorithm 2 — exponential integration of the data-prediction ODE in λ = log(α/σ), using the
 * previous x̂₀ for the second-order term. Optionally on Karras σ's ({@code use_karras_sigmas}). The first step, and
 * the last with {@code final_sigmas_type="zero"} or {@code lower_order_final} with fewer than 15 steps, are first
 * order (DPM-Solver++(1) = DDIM in λ).
 *
 * <p>Stateful: holds the previous step's x̂₀ and how many steps have run.
 */
public final class DpmSolverMultistepScheduler extends AbstractScheduler {
    private static final int LOWER_ORDER_FINAL_BELOW = 15;
    private final float[] alphasCumprod;
    private final float[] trainSigmas;
    private float[] sigmas;
    private NDArray previousX0;
    private int lowerOrderNums;

    DpmSolverMultistepScheduler(SchedulerConfig config) {
        super(config, StepOptions.DEFAULT);
        this.alphasCumprod = config.noise().alphasCumprodForSigmas();
        this.trainSigmas = NoiseSchedule.sigmasOf(alphasCumprod);
    }

    @Override
    protected void computeSchedule(int n) {
        int numTrain = config.noise().numTrainTimesteps();
        int last = numTrain - clippedCount();
        double[] ts = spacedTimesteps(n, numTrain, last);
        double[] s = new double[ts.length];
        if (config.sigma().karras()) {
            s = Timesteps.karras(trainSigmas[0], trainSigmas[numTrain - 1], n);
            float[] logSigmas = Timesteps.logOf(trainSigmas);
            for (int i = 0; i < n; i++) {
                ts[i] = Math.rint(Timesteps.sigmaToT(s[i], logSigmas));
            }
        } else {
            for (int i = 0; i < ts.length; i++) {
                s[i] = Timesteps.interp(ts[i], trainSigmas);
            }
        }
        sigmas = new float[s.length + 1];
        for (int i = 0; i < s.length; i++) {
            sigmas[i] = (float) s[i];
        }
        sigmas[s.length] = config.dpm().finalSigmas() == FinalSigmas.SIGMA_MIN ? trainSigmas[0] : 0f;
        timesteps = ts;
    }

    /**
     * {@code searchsorted(flip(λ_t), lambda_min_clipped)}: how many training steps (from the noisy end) have
     * λ_t = log √ᾱ_t − log √(1 − ᾱ_t) below the clip, in float32.
     */
    private int clippedCount() {
        double clip = config.dpm().lambdaMinClipped();
        int count = 0;
        for (float a : alphasCumprod) {
            float lambda = (float) Math.log((float) Math.sqrt(a)) - (float) Math.log((float) Math.sqrt(1f - a));
            if (lambda < clip) {
                count++;
            }
        }
        return count;
    }

    /** DPM-Solver's own spacing: N + 1 points over [0, last) with the lowest dropped (linspace, leading). */
    private double[] spacedTimesteps(int n, int numTrain, int last) {
        double[] t = new double[n];
        switch (config.spacing()) {
            case LINSPACE -> {
                double[] lin = Timesteps.linspace(0, last - 1, n + 1);
                for (int i = 0; i < n; i++) {
                    t[i] = Math.rint(lin[n - i]);
                }
            }
            case LEADING -> {
                int ratio = last / (n + 1);
                for (int i = 0; i < n; i++) {
                    t[i] = (double) (n - i) * ratio + config.stepsOffset();
                }
            }
            case TRAILING -> {
                double[] ar = Timesteps.arange(last, 0, -((double) numTrain / n));
                t = new double[ar.length];
                for (int i = 0; i < ar.length; i++) {
                    t[i] = Math.rint(ar[i]) - 1;
                }
            }
        }
        return t;
    }

    @Override
    protected void clearHistory() {
        previousX0 = null;
        lowerOrderNums = 0;
    }

    @Override
    public float[] sigmas() {
        requireTimesteps();
        return sigmas.clone();
    }

    @Override
    public float initNoiseSigma() {
        return 1f;
    }

    @Override
    public NDArray scaleModelInput(NDArray sample, int stepIndex) {
        checkIndex(stepIndex);
        return sample;
    }

    /** α_σ·x₀ + σ_σ·ε with α_σ = 1/√(σ² + 1), σ_σ = σ·α_σ at σ = σ_i. */
    @Override
    public NDArray addNoise(NDArray original, NDArray noise, int stepIndex) {
        checkIndex(stepIndex);
        Point p = point(sigmas[stepIndex]);
        return original.mul(p.alpha()).add(noise.mul(p.sigma()));
    }

    /**
     * DPM-Solver++(2M) step (Lu et al. 2022, Algorithm 2; diffusers
     * {@code dpm_solver_first_order_update} / {@code multistep_dpm_solver_second_order_update}).
     *
     * <pre>
     * variable          symbol
     * s0, s1, t         the current, previous and next noise levels (σ_i, σ_{i−1}, σ_{i+1})
     * p.alpha, p.sigma  α = 1/√(σ²+1), σ·α                (VP parameterisation of σ)
     * lambda            λ = log α − log σ                  (half log-SNR)
     * h, h0, r0         λ_t − λ_s0, λ_s0 − λ_s1, h0/h
     * m0, m1            x̂₀ of this and of the previous step (the data prediction)
     * d1                D₁ = (m0 − m1)/r0
     * </pre>
     */
    @Override
    public StepOutput step(NDArray modelOutput, int stepIndex, NDArray sample, NoiseSource noise) {
        beginStep(stepIndex, true);
        DpmOptions o = config.dpm();
        int n = timesteps.length;
        // 1. which order: first order to start, and at the end as configured
        boolean lastStep = stepIndex == n - 1;
        boolean lowerOrderFinal = lastStep && (o.eulerAtFinal()
                || (o.lowerOrderFinal() && n < LOWER_ORDER_FINAL_BELOW) || o.finalSigmas() == FinalSigmas.ZERO);
        // 2. the data prediction x̂₀ (diffusers convert_model_output)
        NDArray m0 = dataPrediction(modelOutput, sample, point(sigmas[stepIndex]));
        // 3. the update
        NDArray prev = o.solverOrder() == 1 || lowerOrderNums < 1 || lowerOrderFinal
                ? firstOrder(m0, stepIndex, sample)
                : secondOrderMidpoint(m0, previousX0, stepIndex, sample);
        // 4. remember x̂₀ for the next step
        release(previousX0);
        previousX0 = o.solverOrder() > 1 ? hold(m0) : null;
        lowerOrderNums = Math.min(lowerOrderNums + 1, o.solverOrder());
        return new StepOutput(prev, m0);
    }

    /** x̂₀ from the model output: ε ⇒ (x − σ_σ·ε)/α_σ; v ⇒ α_σ·x − σ_σ·v; sample ⇒ itself. */
    private NDArray dataPrediction(NDArray modelOutput, NDArray sample, Point p) {
        return switch (config.prediction()) {
            case EPSILON -> sample.sub(modelOutput.mul(p.sigma())).div(p.alpha());
            case V_PREDICTION -> sample.mul(p.alpha()).sub(modelOutput.mul(p.sigma()));
            case SAMPLE -> modelOutput;
        };
    }

    /** DPM-Solver++(1): x_t = (σ_t/σ_s)·x − α_t·(e^{−h} − 1)·x̂₀. */
    private NDArray firstOrder(NDArray m0, int i, NDArray sample) {
        Point t = point(sigmas[i + 1]);
        Point s = point(sigmas[i]);
        float h = t.lambda() - s.lambda();
        float c = t.alpha() * ((float) Math.exp(-h) - 1f);
        return sample.mul(t.sigma() / s.sigma()).sub(m0.mul(c));
    }

    /** DPM-Solver++(2M), midpoint: x_t = (σ_t/σ_s0)·x − α_t(e^{−h} − 1)·D₀ − ½·α_t(e^{−h} − 1)·D₁. */
    private NDArray secondOrderMidpoint(NDArray m0, NDArray m1, int i, NDArray sample) {
        Point t = point(sigmas[i + 1]);
        Point s0 = point(sigmas[i]);
        Point s1 = point(sigmas[i - 1]);
        float h = t.lambda() - s0.lambda();
        float h0 = s0.lambda() - s1.lambda();
        float r0 = h0 / h;
        NDArray d1 = m0.sub(m1).mul(1f / r0);
        float c = t.alpha() * ((float) Math.exp(-h) - 1f);
        return sample.mul(t.sigma() / s0.sigma()).sub(m0.mul(c)).sub(d1.mul(0.5f * c));
    }

    /** A noise level in VP form, float32 as diffusers' {@code _sigma_to_alpha_sigma_t} and the λ's. */
    private record Point(float alpha, float sigma, float lambda) {
    }

    private static Point point(float sigma) {
        float alpha = 1f / (float) Math.sqrt(sigma * sigma + 1f);
        float sigmaT = sigma * alpha;
        return new Point(alpha, sigmaT, (float) Math.log(alpha) - (float) Math.log(sigmaT));
    }
}
