package dev.unetlens.pipeline;

import ai.djl.ndarray.NDArray;

/**
 * What the U-Net is conditioned on for a batch of prompts.
 *
 * @param promptEmbeds [B, 77, Dc] the cross-attention context ({@code encoder_hidden_states})
 * @param pooled       SDXL: [B, P] pooled embeds ({@code text_embeds}); null for SD 1.x/2.x
 */
public record Conditioning(NDArray promptEmbeds, NDArray pooled) {

    /** Rows of {@code a} then rows of {@code b}: the CFG batch [negative, positive]. */
    public static Conditioning concat(Conditioning a, Conditioning b) {
        NDArray pooled = a.pooled == null ? null : a.pooled.concat(b.pooled, 0);
        return new Conditioning(a.promptEmbeds.concat(b.promptEmbeds, 0), pooled);
    }

    /** All zeros of the same shapes (SDXL's negative conditioning with force_zeros_for_empty_prompt). */
    public Conditioning zeros() {
        return new Conditioning(promptEmbeds.zerosLike(), pooled == null ? null : pooled.zerosLike());
    }

    /** Each row repeated {@code n} times in place (diffusers' num_images_per_prompt): [p0, p0, p1, p1, ...]. */
    public Conditioning repeatRows(int n) {
        if (n == 1) {
            return this;
        }
        return new Conditioning(promptEmbeds.repeat(0, n), pooled == null ? null : pooled.repeat(0, n));
    }

    public long batch() {
        return promptEmbeds.getShape().get(0);
    }
}
