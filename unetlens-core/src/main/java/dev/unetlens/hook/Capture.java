package dev.unetlens.hook;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.ForwardContext;

import java.util.ArrayList;
import java.util.List;

/**
 * One captured tensor: a hook point's value at one forward, restricted to the requested batch rows.
 *
 * @param point    hook point name
 * @param module   diffusers class of the module
 * @param step     0-based sampling step (−1 outside a sampling loop)
 * @param evaluation 0-based U-Net evaluation of the run (the step, except after PNDM's warm-up evaluation)
 * @param timestep model timestep
 * @param rows     labels of the rows kept (CFG branch, prompt, noise sample), in order
 * @param value    [rows, ...]; valid only during {@link Sink#accept} unless copied
 */
public record Capture(String point, String module, int step, int evaluation, double timestep,
                      List<ForwardContext.RowLabel> rows, NDArray value) {

    /** Which batch rows to keep when the batch carries classifier-free guidance. */
    public enum Rows {
        /** Conditional rows only (the default: what the prompt asks for). */
        COND,
        /** Unconditional (negative-prompt) rows only. */
        UNCOND,
        /** Every row, unconditional ones first as in the CFG batch. */
        ALL
    }

    /** The same capture under another name (a component's point by its qualified name). */
    public Capture named(String name) {
        return new Capture(name, module, step, evaluation, timestep, rows, value);
    }

    /** Receives captures as they are produced; must copy what it keeps. */
    @FunctionalInterface
    public interface Sink {
        void accept(Capture capture);
    }

    /**
     * The rows of {@code value} that {@code rows} selects. Tensors whose first axis is not the batch (SDXL's
     * {@code add_time_proj}, 6 rows per image) and unlabelled batches are kept whole.
     */
    static Capture of(HookContext ctx, Rows rows, NDArray value) {
        List<ForwardContext.RowLabel> labels = ctx.rows();
        boolean batchFirst = !labels.isEmpty() && value.getShape().dimension() > 0
                && value.getShape().get(0) == labels.size();
        if (!batchFirst || rows == Rows.ALL) {
            return new Capture(ctx.point(), ctx.module(), ctx.step(), ctx.evaluation(), ctx.timestep(), labels, value);
        }
        ForwardContext.Branch want = rows == Rows.COND ? ForwardContext.Branch.COND : ForwardContext.Branch.UNCOND;
        int[] idx = ctx.rowsOf(want);
        if (idx.length == labels.size()) {
            return new Capture(ctx.point(), ctx.module(), ctx.step(), ctx.evaluation(), ctx.timestep(), labels, value);
        }
        List<ForwardContext.RowLabel> kept = new ArrayList<>();
        for (int i : idx) {
            kept.add(labels.get(i));
        }
        NDArray sel = idx.length == 0 ? value.get("0:0") : selectRows(value, idx);
        return new Capture(ctx.point(), ctx.module(), ctx.step(), ctx.evaluation(), ctx.timestep(), kept, sel);
    }

    private static NDArray selectRows(NDArray value, int[] idx) {
        // rows of one branch are contiguous in a CFG batch ([uncond..., cond...]); fall back to gathering otherwise
        boolean contiguous = idx[idx.length - 1] - idx[0] == idx.length - 1;
        if (contiguous) {
            return value.get(idx[0] + ":" + (idx[idx.length - 1] + 1));
        }
        long[] l = new long[idx.length];
        for (int i = 0; i < idx.length; i++) {
            l[i] = idx[i];
        }
        return value.get(value.getManager().create(l));
    }
}
