package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;

import java.util.List;

/**
 * What a down block returns (diffusers' {@code (hidden_states, output_states)} tuple).
 *
 * @param hidden the input of the next block, [B, C, H', W'] (H' = ⌈H/2⌉ after a downsampler, else H)
 * @param skips  the skip tensors in push order, one per resnet(+attention) and one after the downsampler; the
 *               up blocks pop them from the end. The last one is {@code hidden} itself.
 */
public record DownOutput(NDArray hidden, List<NDArray> skips) {
    public DownOutput {
        skips = List.copyOf(skips);
    }
}
