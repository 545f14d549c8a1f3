package dev.unetlens.schedule;

import ai.djl.ndarray.NDArray;
import dev.unetlens.rng.NoiseSource;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * diffusers {@code PNDMScheduler} with {@code skip_prk_steps} (Liu et al. 2022, "Pseudo Numerical Methods for
 * Diffusion Models on Manifolds"): the pseudo linear multistep method PLMS, i.e. the transfer part φ of eq. 9 driven
 * by an Adams–Bashforth combination of the last four ε̂ (eq. 12–13, Algorithm 2), warmed up by a second-order step
 * that repeats the second timestep (so N steps evaluate the model N + 1 times).
 *
 * <p>Stateful: holds up to four earlier ε̂ and, between the first two model calls, the sample x_T.
 */
public final class PndmScheduler extends AlphaScheduler {
    private final Deque<NDArray> ets = new ArrayDeque<>();   // ε̂ history, newest last
    private NDArray curSample;
    private int counter;

    PndmScheduler(SchedulerConfig config) {
        super(config, StepOptions.DEFAULT);
    }

    @Override
    protected void computeSchedule(int n) {
        // ascending training timesteps, then [t_0 … t_{N−2}, t_{N−2}, t_{N−1}] reversed: the second one twice
        double[] desc = Timesteps.spaced(config.spacing(), config.noise().numTrainTimesteps(), n, config.stepsOffset(), true);
        if (n == 1) {
            timesteps = desc;                       // diffusers: nothing to repeat
        } else {
            timesteps = new double[n + 1];
            timesteps[0] = desc[0];
            timesteps[1] = desc[1];
            System.arraycopy(desc, 1, timesteps, 2, n - 1);
        }
        requireTrainingTimesteps();
    }

    @Override
    public boolean redoesFirstStep() {
        return true;
    }

    @Override
    protected void clearHistory() {
        ets.clear();
        curSample = null;
        counter = 0;
    }

    /**
     * PLMS step (Liu et al. 2022, Algorithm 2: eq. 12–13 with the transfer φ of eq. 9).
     *
     * <pre>
     * variable        symbol
     * t, tPrev        t, t − δ, δ = T/N   (the second call goes from t + δ to t again)
     * ets             e_{t}, e_{t+δ}, …    earlier ε̂, newest last
     * eps             e′_t                 the multistep ε̂
     * alphaT, aPrev   ᾱ_t, ᾱ_{t−δ}
     * </pre>
     */
    @Override
    public StepOutput step(NDArray modelOutput, int stepIndex, NDArray sample, NoiseSource noise) {
        beginStep(stepIndex, true);
        // 1. timesteps: t → t − δ, except the warm-up's second call, which redoes t + δ → t with the average ε̂
        int t = (int) timesteps[stepIndex];
        int tPrev = t - stepRatio();
        if (counter == 1) {
            tPrev = t;
            t = t + stepRatio();
        } else {
            if (ets.size() == 4) {
                release(ets.removeFirst());
            }
            ets.addLast(hold(modelOutput));
        }
        // 2. the linear multistep ε̂ (Adams–Bashforth weights; lower orders while the history fills)
        NDArray eps;
        NDArray x = sample;
        NDArray[] e = ets.reversed().toArray(NDArray[]::new);   // e[0] newest
        if (ets.size() == 1 && counter == 0) {
            eps = modelOutput;
            curSample = hold(sample);
        } else if (ets.size() == 1 && counter == 1) {
            eps = modelOutput.add(e[0]).div(2f);
            x = curSample;
        } else if (ets.size() == 2) {
            eps = e[0].mul(3f).sub(e[1]).div(2f);
        } else if (ets.size() == 3) {
            eps = e[0].mul(23f).sub(e[1].mul(16f)).add(e[2].mul(5f)).div(12f);
        } else {
            eps = e[0].mul(55f).sub(e[1].mul(59f)).add(e[2].mul(37f)).sub(e[3].mul(9f)).mul((float) (1.0 / 24));
        }
        // 3. x_{t−δ} = φ(x_t, e′_t, t, t − δ) (eq. 9)
        NDArray prev = transfer(x, t, tPrev, eps);
        if (counter == 1) {
            release(curSample);
            curSample = null;
        }
        counter++;
        return new StepOutput(prev, null);
    }

    /**
     * The transfer φ (eq. 9, diffusers {@code _get_prev_sample}): x_{t−δ} = √(ᾱ_{t−δ}/ᾱ_t)·x_t
     * − (ᾱ_{t−δ} − ᾱ_t)·ε / (ᾱ_t·√(1 − ᾱ_{t−δ}) + √(ᾱ_t·(1 − ᾱ_t)·ᾱ_{t−δ})), with v-predictions turned into
     * ε first.
     */
    private NDArray transfer(NDArray x, int t, int tPrev, NDArray eps) {
        float alphaT = alphasCumprod[t];
        float aPrev = alphaCumprodAt(tPrev);
        float betaT = 1f - alphaT;
        float betaPrev = 1f - aPrev;
        if (config.prediction() == SchedulerConfig.Prediction.V_PREDICTION) {
            eps = eps.mul((float) Math.sqrt(alphaT)).add(x.mul((float) Math.sqrt(betaT)));
        }
        float sampleCoeff = (float) Math.sqrt(aPrev / alphaT);
        float denom = alphaT * (float) Math.sqrt(betaPrev) + (float) Math.sqrt(alphaT * betaT * aPrev);
        return x.mul(sampleCoeff).sub(eps.mul(aPrev - alphaT).div(denom));
    }
}
