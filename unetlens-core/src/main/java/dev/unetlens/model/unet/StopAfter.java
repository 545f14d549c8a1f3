package dev.unetlens.model.unet;

/**
 * How far a U-Net forward runs: to the end, or only up to and including one top-level stage, for feature
 * extraction that needs nothing deeper. The stages, in execution order, are {@code time_embedding} (all of step 1:
 * {@code time_proj}, {@code time_embedding}, SDXL's {@code add_time_proj} / {@code add_embedding}, {@code :emb}),
 * {@code conv_in}, {@code down_blocks.0} … , {@code mid_block}, {@code up_blocks.0} … , {@code conv_norm_out},
 * {@code conv_act}, {@code conv_out}. Get one for a set of hook points with
 * {@link UNet2DConditionModel#stopAfter(java.util.Collection)}.
 *
 * @param stage the top-level stage's module path; {@code ""} (the model output) runs everything
 */
public record StopAfter(String stage) {
    /** Runs the whole model. */
    public static final StopAfter END = new StopAfter("");

    public StopAfter {
        if (stage == null) {
            throw new IllegalArgumentException("stage must not be null; use StopAfter.END to run everything");
        }
    }

    /** Whether the forward stops right after the stage at {@code path}. */
    boolean isAfter(String path) {
        return stage.equals(path);
    }
}
