package dev.unetlens.pipeline;

import dev.unetlens.schedule.Scheduler;
import dev.unetlens.schedule.SchedulerKind;

import java.util.ArrayList;
import java.util.List;

/**
 * A scheduler's schedule as the deep dive's scheduler section shows it: for every U-Net evaluation of the schedule,
 * the model timestep t, the noise level σ = √((1 − ᾱ)/ᾱ) and ᾱ = 1/(1 + σ²), and whether a run executes it (img2img
 * starts at {@link Scheduler#beginIndexForStrength}); and the training schedule ᾱ_t over all training timesteps.
 *
 * <p>σ is the scheduler's own where it has sigmas (Euler, Euler ancestral, LMS, DPM-Solver: its {@code sigmas}, Karras
 * ones included) and is computed from {@code alphas_cumprod} at the (integer) timestep where it has none (DDIM, PNDM).
 *
 * @param kind            the scheduler
 * @param steps           the inference steps N
 * @param strength        img2img strength, or NaN for txt2img
 * @param begin           the first executed evaluation (0 for txt2img)
 * @param rows            one per evaluation of the whole schedule (PNDM: N + 1)
 * @param initNoiseSigma  σ of the initial noise x_T
 * @param sigmaSource     {@code scheduler} or {@code alphas_cumprod}
 * @param trainingAlphaBar ᾱ_t for t = 0 … T−1 (float32, as the scheduler computes it)
 */
public record ScheduleTable(SchedulerKind kind, int steps, double strength, int begin, List<Row> rows,
                            float initNoiseSigma, String sigmaSource, float[] trainingAlphaBar) {

    /**
     * One U-Net evaluation.
     *
     * @param index    its index into the scheduler's timesteps
     * @param step     the run's step it belongs to (from 1), or 0 where img2img skips it
     * @param timestep model timestep t
     * @param sigma    σ at t
     * @param alphaBar ᾱ at t
     */
    public record Row(int index, int step, double timestep, double sigma, double alphaBar) {
        public boolean executed() {
            return step > 0;
        }
    }

    public ScheduleTable {
        rows = List.copyOf(rows);
    }

    /** The table of {@code s} (timesteps set), a run starting at {@code strength} (NaN: txt2img). */
    public static ScheduleTable of(Scheduler s, double strength) {
        int begin = Double.isNaN(strength) ? 0 : s.beginIndexForStrength(strength);
        double[] t = s.timesteps();
        float[] sigmas = s.sigmas();
        boolean own = sigmas.length > 0;
        float[] alphaBar = s.config().noise().alphasCumprod();
        StepPlan plan = new StepPlan(java.util.Arrays.copyOfRange(t, begin, t.length),
                s.redoesFirstStep() && t.length - begin > 1 ? 1 : -1);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < t.length; i++) {
            double sigma = own ? sigmas[i] : sigmaOf(alphaBar[(int) t[i]]);
            int step = i < begin ? 0 : plan.stepOf(i - begin) + 1;
            rows.add(new Row(i, step, t[i], sigma, own ? 1 / (1 + sigma * sigma) : alphaBar[(int) t[i]]));
        }
        return new ScheduleTable(s.kind(), s.numInferenceSteps(), strength, begin, rows, s.initNoiseSigma(),
                own ? "scheduler" : "alphas_cumprod", alphaBar);
    }

    /** σ = √((1 − ᾱ)/ᾱ), as the sigma schedulers compute it (float32). */
    private static double sigmaOf(float alphaBar) {
        return (float) Math.sqrt((1f - alphaBar) / alphaBar);
    }

    /** The rows a run executes. */
    public List<Row> executed() {
        return rows.stream().filter(Row::executed).toList();
    }
}
