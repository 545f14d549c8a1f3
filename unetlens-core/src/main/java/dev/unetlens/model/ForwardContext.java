package dev.unetlens.model;

import java.util.List;

/**
 * What a hook knows about the forward in progress, set by whoever runs the model (a pipeline step, an
 * extraction pass).
 *
 * @param step       0-based sampling step, or -1 outside a sampling loop
 * @param evaluation 0-based U-Net evaluation of the run (the step, except after PNDM's warm-up evaluation), -1 outside
 * @param warmup     whether this is PNDM's warm-up evaluation, the second of step 1 ({@code dev.unetlens.pipeline.StepPlan})
 * @param timestep   the model timestep of this forward (may be fractional for sigma schedulers), NaN if none
 * @param rows       one label per batch row: which CFG branch and which prompt each row is
 */
public record ForwardContext(int step, int evaluation, boolean warmup, double timestep, List<RowLabel> rows) {
    public static final ForwardContext NONE = new ForwardContext(-1, Double.NaN, List.of());

    public ForwardContext {
        rows = List.copyOf(rows);
    }

    /** A forward with one evaluation per step (no warm-up). */
    public ForwardContext(int step, double timestep, List<RowLabel> rows) {
        this(step, step, false, timestep, rows);
    }
    /** Which classifier-free-guidance branch a batch row belongs to. */
    public enum Branch { UNCOND, COND }

    /**
     * @param branch unconditional (negative prompt) or conditional
     * @param prompt index of the prompt (and of the image in the batch) this row belongs to
     * @param sample index of the noise sample, for extraction over many noise draws; 0 otherwise
     */
    public record RowLabel(Branch branch, int prompt, int sample) {
    }
}
