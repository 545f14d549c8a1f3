package dev.unetlens.hook;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.ForwardContext;

import java.util.List;

/**
 * What a hook sees besides the tensor.
 *
 * @param point   the hook point's name (module path, {@code path:internal}, or extra sub-path)
 * @param module  the diffusers class of the emitting module ({@code Transformer2DModel})
 * @param input   the module's main input (hidden states), for hooks that need it; do not modify
 * @param forward the forward in progress: step, U-Net evaluation, timestep, batch rows
 */
public record HookContext(String point, String module, NDArray input, ForwardContext forward) {

    /** 0-based sampling step, −1 outside a sampling loop. */
    public int step() {
        return forward.step();
    }

    /** 0-based U-Net evaluation of the run: the step, except after PNDM's warm-up evaluation; −1 outside a loop. */
    public int evaluation() {
        return forward.evaluation();
    }

    /**
     * Whether this is PNDM's warm-up evaluation, the second of step 1 ({@link dev.unetlens.pipeline.StepPlan}):
     * captures skip it, edits of step 1 apply to it too.
     */
    public boolean warmup() {
        return forward.warmup();
    }

    /** Model timestep of this forward, NaN if none. */
    public double timestep() {
        return forward.timestep();
    }

    /** Per batch row: CFG branch, prompt index, noise-sample index. */
    public List<ForwardContext.RowLabel> rows() {
        return forward.rows();
    }

    /** Indices of the batch rows in {@code branch}, in order. */
    public int[] rowsOf(ForwardContext.Branch branch) {
        return java.util.stream.IntStream.range(0, rows().size()).filter(i -> rows().get(i).branch() == branch).toArray();
    }
}
