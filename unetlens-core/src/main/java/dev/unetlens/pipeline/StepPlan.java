package dev.unetlens.pipeline;

import java.util.Arrays;
import java.util.Locale;

/**
 * How a run's U-Net evaluations map to the sampling steps a user counts. {@code --steps N} runs N steps (img2img the
 * last ⌊N·strength⌋ of them), and each step evaluates the U-Net once — except the first step of PNDM (PLMS), which
 * evaluates it twice, as diffusers does: at the step's timestep, then once more at the next timestep on a provisional
 * sample, and redoes the step with the average of the two predictions. So PNDM's N steps are N + 1 evaluations; the
 * second one is the <em>warm-up evaluation</em>. Steps are what {@code --at-steps}, {@code steps=}, file names,
 * titles and manifests count; a capture of a step is its first evaluation (the one at the step's timestep on the
 * step's own input); an edit of a step changes both of PNDM's.
 *
 * @param evaluationTimesteps the model timestep of each evaluation, in order
 * @param warmup              the index of the warm-up evaluation, or −1 for none
 */
public record StepPlan(double[] evaluationTimesteps, int warmup) {
    public StepPlan {
        evaluationTimesteps = evaluationTimesteps.clone();
        if (warmup >= evaluationTimesteps.length || warmup == 0) {
            throw new IllegalArgumentException("warm-up evaluation " + warmup + " of " + evaluationTimesteps.length);
        }
    }

    /** U-Net evaluations. */
    public int evaluations() {
        return evaluationTimesteps.length;
    }

    /** Sampling steps. */
    public int steps() {
        return evaluations() - (warmup > 0 ? 1 : 0);
    }

    /** The 0-based step that evaluation {@code e} (0-based) belongs to. */
    public int stepOf(int e) {
        return warmup > 0 && e >= warmup ? e - 1 : e;
    }

    /** Whether evaluation {@code e} is PNDM's warm-up evaluation (the second of step 1). */
    public boolean isWarmup(int e) {
        return e == warmup;
    }

    /** Whether the step of evaluation {@code e} is complete after it (false for the first of a two-evaluation step). */
    public boolean completesStep(int e) {
        return warmup <= 0 || e != warmup - 1;
    }

    /** The timestep of each step (that of its first evaluation). */
    public double[] stepTimesteps() {
        double[] out = new double[steps()];
        for (int e = 0; e < evaluations(); e++) {
            if (!isWarmup(e)) {
                out[stepOf(e)] = evaluationTimesteps[e];
            }
        }
        return out;
    }

    @Override
    public double[] evaluationTimesteps() {
        return evaluationTimesteps.clone();
    }

    /** One sentence on the warm-up evaluation for manifests and progress, or "" when there is none. */
    public String note() {
        if (warmup <= 0) {
            return "";
        }
        return String.format(Locale.ROOT, "PNDM (PLMS) evaluates the U-Net twice in step 1 (the second time at t = %s,"
                + " a warm-up that redoes the step with the average prediction), so %d steps make %d U-Net evaluations",
                Pipeline.formatT(evaluationTimesteps[warmup]), steps(), evaluations());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StepPlan p && p.warmup == warmup && Arrays.equals(p.evaluationTimesteps, evaluationTimesteps);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(evaluationTimesteps) + warmup;
    }

    @Override
    public String toString() {
        return "StepPlan" + Arrays.toString(evaluationTimesteps) + (warmup > 0 ? " warm-up " + warmup : "");
    }
}
