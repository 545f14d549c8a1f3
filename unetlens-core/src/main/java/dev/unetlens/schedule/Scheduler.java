package dev.unetlens.schedule;

import ai.djl.ndarray.NDArray;
import dev.unetlens.rng.NoiseSource;

/**
 * A diffusers noise scheduler (sampler): the inference timesteps and noise levels, the model-input scaling, and
 * the update x_t → x_{t−1} from the model's output.
 *
 * <p><b>Stateful.</b> A scheduler holds its timesteps after {@link #setTimesteps}, and the multistep methods (PNDM,
 * LMS, DPM-Solver) hold the model outputs of earlier steps. Steps are addressed by their index into
 * {@link #timesteps()}; a run calls {@code step} with consecutive indices, starting at 0 for txt2img or at
 * {@link #beginIndexForStrength} for img2img. The multistep schedulers refuse an index that does not follow the
 * previous one; {@link #reset()} starts a new run on the same timesteps and {@link #setTimesteps} a new schedule.
 * One scheduler serves one run at a time; {@link #copy()} gives an independent one for another.
 *
 * <p><b>Memory.</b> Arrays returned by the methods are new and belong to the input's manager, except where a result
 * is an input unchanged: {@code scaleModelInput} of DDIM, PNDM and DPM-Solver returns the sample, and x̂₀ under
 * {@code prediction_type="sample"} is the model output. The history a multistep scheduler
 * keeps is its own copy, detached from any {@code NDScope}, so per-step scopes may free everything the step made;
 * it is freed by {@link #reset()}, {@link #setTimesteps} or with its manager.
 *
 * <p>Arithmetic follows diffusers 0.27.2 on torch: scalar coefficients in float32 as 0-dim torch tensors compute
 * them, element-wise work in float32 on the NDArrays, the schedule itself in numpy's float64 then float32.
 */
public interface Scheduler {

    /** A new scheduler for {@code config} (its kind's class), no timesteps set yet. */
    static Scheduler create(SchedulerConfig config, StepOptions options) {
        return config.kind().create(config, options);
    }

    SchedulerKind kind();

    SchedulerConfig config();

    /** Computes the schedule for {@code numInferenceSteps} steps and clears any history. */
    void setTimesteps(int numInferenceSteps);

    /** The N of the last {@link #setTimesteps}. */
    int numInferenceSteps();

    /**
     * Whether a run's second model evaluation redoes its first step (PNDM's PLMS warm-up: N steps evaluate the model
     * N + 1 times, see {@link dev.unetlens.pipeline.StepPlan}); false for one evaluation per step.
     */
    default boolean redoesFirstStep() {
        return false;
    }

    /**
     * The timesteps the model is evaluated at, in order (a copy). Integer-valued for DDIM, PNDM and DPM-Solver;
     * float32 values for Euler and LMS. PNDM (PLMS) has N + 1 entries, its second timestep repeated (one for N = 1).
     */
    double[] timesteps();

    /** The noise levels σ, one per timestep plus the final one (0), float32; empty for DDIM and PNDM. */
    float[] sigmas();

    /** The standard deviation of the initial noise: x_T = σ_init · N(0, I). */
    float initNoiseSigma();

    /** The model input at step {@code stepIndex}: x / √(σ² + 1) for the Euler and LMS family, else x itself. */
    NDArray scaleModelInput(NDArray sample, int stepIndex);

    /**
     * One update from step {@code stepIndex} to the next. {@code noise} is where stochastic steps draw their noise:
     * Euler draws one N(0, I) tensor of the output's shape every step (used only with s_churn &gt; 0), Euler
     * ancestral one per step, DDIM one per step when η &gt; 0; the others never draw and accept null.
     */
    StepOutput step(NDArray modelOutput, int stepIndex, NDArray sample, NoiseSource noise);

    /**
     * The scheduler's own {@code add_noise} at timestep {@code timesteps()[stepIndex]} (img2img): DDPM's
     * √ᾱ·x₀ + √(1−ᾱ)·ε for DDIM and PNDM, x₀ + σ·ε for Euler and LMS, α_σ·x₀ + σ_σ·ε for DPM-Solver.
     */
    NDArray addNoise(NDArray original, NDArray noise, int stepIndex);

    /**
     * Where img2img starts (diffusers' {@code get_timesteps}): with init = min(⌊N·strength⌋, N), the first executed
     * step is index (N − init)·order (order is 1 for all of these schedulers); the run executes
     * {@code timesteps()[begin..]}.
     */
    default int beginIndexForStrength(double strength) {
        if (!(strength >= 0 && strength <= 1)) {
            throw new dev.unetlens.config.ConfigException("strength must be in [0, 1], got " + strength);
        }
        int n = numInferenceSteps();
        int init = Math.min((int) (n * strength), n);
        return Math.max(n - init, 0);
    }

    /** The timesteps an img2img run at {@code strength} executes: {@code timesteps()[beginIndexForStrength(strength)..]}. */
    default double[] timestepsForStrength(double strength) {
        double[] all = timesteps();
        return java.util.Arrays.copyOfRange(all, beginIndexForStrength(strength), all.length);
    }

    /** Forgets the history of a run (the timesteps stay). */
    void reset();

    /** A new scheduler of the same kind, config and options, with the same timesteps and no history. */
    Scheduler copy();
}
