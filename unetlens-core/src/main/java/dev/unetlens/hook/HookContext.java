package dev.unetlens.hook;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.ForwardContext;

import java.util.List;

/**
 * What a hook sees besides the tensor.
 *
 * @param point    the hook point's name (module path, {@code path:internal}, or extra sub-path)
 * @param module   the diffusers class of the emitting module ({@code Transformer2DModel})
 * @param input    the module's main input (hidden states), for hooks that need it; do not modify
 * @param step     0-based sampling step, −1 outside a sampling loop
 * @param timestep model timestep of this forward, NaN if none
 * @param rows     per batch row: CFG branch, prompt index, noise-sample index
 */
public record HookContext(String point, String module, NDArray input, int step, double timestep,
                          List<ForwardContext.RowLabel> rows) {
    public HookContext {
        rows = List.copyOf(rows);
    }

    /** Indices of the batch rows in {@code branch}, in order. */
    public int[] rowsOf(ForwardContext.Branch branch) {
        return java.util.stream.IntStream.range(0, rows.size()).filter(i -> rows.get(i).branch() == branch).toArray();
    }
}
