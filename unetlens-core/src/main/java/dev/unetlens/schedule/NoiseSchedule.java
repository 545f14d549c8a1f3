package dev.unetlens.schedule;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.config.ConfigException;
import dev.unetlens.config.Range;

import java.util.Arrays;

/**
 * The forward (noising) process of training: β₁…β_T, α_t = 1 − β_t, ᾱ_t = ∏_{s≤t} α_s (Ho et al. 2020), and
 * DDPM's {@code add_noise} / {@code get_velocity} on top of it. Computed in float32 exactly as diffusers does with
 * torch 1.13: the linspace of torch's vectorised CPU kernel, the cumulative product accumulated in double and
 * rounded per step.
 *
 * @param numTrainTimesteps T ({@code num_train_timesteps})
 * @param betaStart         β₁ ({@code beta_start})
 * @param betaEnd           β_T ({@code beta_end})
 * @param schedule          {@code beta_schedule}; ignored when {@code trainedBetas} is given
 * @param trainedBetas      {@code trained_betas}, or null
 * @param rescaleZeroSnr    {@code rescale_betas_zero_snr}: shift √ᾱ so that ᾱ_T = 0 (Lin et al. 2023, Algorithm 1)
 */
public record NoiseSchedule(int numTrainTimesteps, double betaStart, double betaEnd, BetaSchedule schedule,
                            double[] trainedBetas, boolean rescaleZeroSnr) {

    /** {@code beta_schedule}. */
    public enum BetaSchedule {
        /** β linear from β₁ to β_T. */
        LINEAR,
        /** √β linear from √β₁ to √β_T, squared (Stable Diffusion). */
        SCALED_LINEAR,
        /** ᾱ(t) = cos²((t/T + 0.008)/1.008 · π/2), β capped at 0.999 (Nichol & Dhariwal 2021). */
        SQUAREDCOS_CAP_V2
    }

    /** T: diffusers' models train with 1000; the bound keeps a hostile config from allocating gigabytes. */
    public static final Range NUM_TRAIN_TIMESTEPS = new Range("num_train_timesteps", 2, 100_000);

    public NoiseSchedule {
        NUM_TRAIN_TIMESTEPS.check(numTrainTimesteps);
        if (trainedBetas != null && (trainedBetas.length < numTrainTimesteps
                || trainedBetas.length > NUM_TRAIN_TIMESTEPS.max())) {
            throw new ConfigException("trained_betas has " + trainedBetas.length + " entries; it needs one per training"
                    + " timestep, num_train_timesteps = " + numTrainTimesteps + " (at most " + NUM_TRAIN_TIMESTEPS.max()
                    + ")");
        }
        if (!(betaStart > 0 && betaStart < 1) || !(betaEnd > 0 && betaEnd < 1)) {
            throw new ConfigException("beta_start and beta_end must be in (0, 1), got " + betaStart + " and " + betaEnd);
        }
        trainedBetas = trainedBetas == null ? null : trainedBetas.clone();
    }

    @Override
    public double[] trainedBetas() {
        return trainedBetas == null ? null : trainedBetas.clone();
    }

    /** β, float32, length T (or the length of {@code trained_betas}). */
    public float[] betas() {
        float[] betas;
        if (trainedBetas != null) {
            betas = new float[trainedBetas.length];
            for (int i = 0; i < betas.length; i++) {
                betas[i] = (float) trainedBetas[i];
            }
        } else {
            betas = switch (schedule) {
                case LINEAR -> torchLinspace((float) betaStart, (float) betaEnd, numTrainTimesteps);
                case SCALED_LINEAR -> squared(torchLinspace((float) Math.sqrt(betaStart), (float) Math.sqrt(betaEnd),
                        numTrainTimesteps));
                case SQUAREDCOS_CAP_V2 -> squaredCosCapV2(numTrainTimesteps);
            };
        }
        return rescaleZeroSnr ? rescaleZeroTerminalSnr(betas) : betas;
    }

    /** ᾱ, float32. With zero-terminal-SNR rescaling the last entry is exactly 0. */
    public float[] alphasCumprod() {
        return cumprod(oneMinus(betas()));
    }

    /**
     * ᾱ as the sigma-space schedulers (Euler, Euler ancestral, DPM-Solver) use it: with zero-terminal-SNR
     * rescaling, ᾱ_T is set to 2⁻²⁴ so that σ_T = √((1 − ᾱ_T)/ᾱ_T) stays finite (≈ 4096).
     */
    public float[] alphasCumprodForSigmas() {
        float[] a = alphasCumprod();
        if (rescaleZeroSnr) {
            a[a.length - 1] = 0x1p-24f;
        }
        return a;
    }

    /** σ_t = √((1 − ᾱ_t)/ᾱ_t) in float32, as {@code ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5}. */
    static float[] sigmasOf(float[] alphasCumprod) {
        float[] s = new float[alphasCumprod.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) Math.sqrt((1f - alphasCumprod[i]) / alphasCumprod[i]);
        }
        return s;
    }

    /**
     * DDPMScheduler.add_noise: x_t = √ᾱ_t · x₀ + √(1 − ᾱ_t) · ε, the sample of q(x_t | x₀) (Ho et al. 2020, eq. 4),
     * with one timestep per batch row. x₀, ε [B, ...]; {@code timesteps} has B entries.
     */
    public NDArray addNoise(NDArray original, NDArray noise, long... timesteps) {
        return addNoise(alphasCumprod(), original, noise, timesteps);
    }

    /** DDPMScheduler.get_velocity: v = √ᾱ_t · ε − √(1 − ᾱ_t) · x₀ (Salimans &amp; Ho 2022), per batch row. */
    public NDArray velocity(NDArray original, NDArray noise, long... timesteps) {
        float[] acp = alphasCumprod();
        NDArray a = rowCoefficients(original, timesteps, t -> (float) Math.sqrt(acp[t]));
        NDArray b = rowCoefficients(original, timesteps, t -> (float) Math.sqrt(1f - acp[t]));
        return a.mul(noise).sub(b.mul(original));
    }

    /** {@link #addNoise(NDArray, NDArray, long...)} with a given ᾱ table (DDIM and PNDM share it). */
    static NDArray addNoise(float[] alphasCumprod, NDArray original, NDArray noise, long... timesteps) {
        NDArray a = rowCoefficients(original, timesteps, t -> (float) Math.sqrt(alphasCumprod[t]));
        NDArray b = rowCoefficients(original, timesteps, t -> (float) Math.sqrt(1f - alphasCumprod[t]));
        return a.mul(original).add(b.mul(noise));
    }

    /** One coefficient per batch row, shaped [B, 1, 1, ...] to broadcast over the rest; one timestep broadcasts to all. */
    private static NDArray rowCoefficients(NDArray like, long[] timesteps, java.util.function.IntToDoubleFunction f) {
        long rows = like.getShape().get(0);
        if (timesteps.length != rows && timesteps.length != 1) {
            throw new IllegalArgumentException("add_noise: " + timesteps.length + " timesteps for " + rows + " rows");
        }
        float[] c = new float[timesteps.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = (float) f.applyAsDouble(Math.toIntExact(timesteps[i]));
        }
        long[] shape = new long[like.getShape().dimension()];
        Arrays.fill(shape, 1);
        shape[0] = c.length;
        return like.getManager().create(c, new Shape(shape));
    }

    /**
     * {@code torch.linspace(start, end, steps, dtype=float32)} as torch 1.13's AVX2 CPU kernel computes it: step =
     * (end − start)/(steps − 1) in float; vectors of 8 from a base fma(step, i, start) below the halfway index or
     * end − step·(steps − 1 − i) above it, then base + k·step; the tail after the last full block of 16 per element.
     * Every multiply-add is fused, as GCC compiles it. (torch ≥ 2.1 computes each element on its own; the results
     * differ from these by 1 ulp in places.)
     */
    static float[] torchLinspace(float start, float end, int steps) {
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        int vectorEnd = steps - steps % 16;
        int idx = 0;
        for (; idx < vectorEnd; idx += 8) {
            float base = linspaceElement(start, end, step, halfway, steps, idx);
            for (int k = 0; k < 8; k++) {
                out[idx + k] = Math.fma(k, step, base);
            }
        }
        for (; idx < steps; idx++) {
            out[idx] = linspaceElement(start, end, step, halfway, steps, idx);
        }
        return out;
    }

    private static float linspaceElement(float start, float end, float step, int halfway, int steps, int idx) {
        return idx < halfway ? Math.fma(step, idx, start) : Math.fma(-step, steps - idx - 1, end);
    }

    private static float[] squared(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * x[i];
        }
        return out;
    }

    private static float[] oneMinus(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = 1f - x[i];
        }
        return out;
    }

    /** {@code torch.cumprod} on CPU: accumulated in double, each prefix rounded to float. */
    static float[] cumprod(float[] x) {
        float[] out = new float[x.length];
        double acc = 1.0;
        for (int i = 0; i < x.length; i++) {
            acc *= x[i];
            out[i] = (float) acc;
        }
        return out;
    }

    /** diffusers {@code betas_for_alpha_bar(T)} with the cosine ᾱ, in double, then float32. */
    private static float[] squaredCosCapV2(int t) {
        float[] out = new float[t];
        for (int i = 0; i < t; i++) {
            double t1 = (double) i / t;
            double t2 = (double) (i + 1) / t;
            out[i] = (float) Math.min(1 - alphaBarCos(t2) / alphaBarCos(t1), 0.999);
        }
        return out;
    }

    private static double alphaBarCos(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /** diffusers {@code rescale_zero_terminal_snr}, in float32 as torch computes it. */
    private static float[] rescaleZeroTerminalSnr(float[] betas) {
        float[] acp = cumprod(oneMinus(betas));
        int n = acp.length;
        float[] sqrt = new float[n];
        for (int i = 0; i < n; i++) {
            sqrt[i] = (float) Math.sqrt(acp[i]);
        }
        float s0 = sqrt[0];
        float sT = sqrt[n - 1];
        float scale = s0 / (s0 - sT);
        float[] bar = new float[n];
        for (int i = 0; i < n; i++) {
            float shifted = (sqrt[i] - sT) * scale;
            bar[i] = shifted * shifted;
        }
        float[] out = new float[n];
        out[0] = 1f - bar[0];
        for (int i = 1; i < n; i++) {
            out[i] = 1f - bar[i] / bar[i - 1];
        }
        return out;
    }
}
