package dev.unetlens.pipeline;

/** Which Stable Diffusion generation a model belongs to; decides the text conditioning. */
public enum ModelFamily {
    /** SD 1.x: one CLIP-L encoder, last hidden state with the final LayerNorm. */
    SD1,
    /** SD 2.x: one OpenCLIP-H encoder (pad token "!"), otherwise as SD 1.x; often v-prediction. */
    SD2,
    /** SDXL / SDXL-Turbo: two encoders' penultimate states, pooled embeds and micro-conditioning time ids. */
    SDXL
}
