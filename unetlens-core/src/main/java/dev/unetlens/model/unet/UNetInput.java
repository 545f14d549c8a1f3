package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;

/**
 * The arguments of one U-Net forward, as diffusers' {@code unet(sample, timestep, encoder_hidden_states,
 * added_cond_kwargs={"text_embeds": …, "time_ids": …})}.
 *
 * @param sample              the noisy latents, [B, Cin, H, W]
 * @param timestep            [] (one timestep for every row), [1], or [B] (one per row); any integer or float type,
 *                            used as float32 like diffusers' {@code timesteps.float()} (so 999 and 999.0 are the
 *                            same; float64 values are rounded to float32)
 * @param encoderHiddenStates the text states cross-attention reads, [B, S, Dc]
 * @param textEmbeds          SDXL only ({@code addition_embed_type "text_time"}): the pooled text embeds, [B, P];
 *                            null otherwise
 * @param timeIds             SDXL only: micro-conditioning [B, K] (K = 6: original h, w, crop top, left, target
 *                            h, w); null otherwise
 */
public record UNetInput(NDArray sample, NDArray timestep, NDArray encoderHiddenStates, NDArray textEmbeds,
                        NDArray timeIds) {

    /** An SD 1.x / 2.x input with one timestep for all rows. */
    public static UNetInput of(NDArray sample, double timestep, NDArray encoderHiddenStates) {
        return new UNetInput(sample, sample.getManager().create((float) timestep), encoderHiddenStates, null, null);
    }

    /** An SD 1.x / 2.x input with a timestep tensor, [] or [B]. */
    public static UNetInput of(NDArray sample, NDArray timestep, NDArray encoderHiddenStates) {
        return new UNetInput(sample, timestep, encoderHiddenStates, null, null);
    }

    /** This input with SDXL's added conditions: pooled text embeds [B, P] and time ids [B, K]. */
    public UNetInput withAddedCond(NDArray textEmbeds, NDArray timeIds) {
        return new UNetInput(sample, timestep, encoderHiddenStates, textEmbeds, timeIds);
    }
}
