package dev.unetlens.schedule;

import ai.djl.ndarray.NDArray;

/**
 * What one denoising step returns.
 *
 * @param prevSample         x_{t−1}, the sample for the next step [B, C, H, W]
 * @param predOriginalSample x̂₀, the step's estimate of the clean sample [B, C, H, W]; null where the method has
 *                           none (PNDM)
 */
public record StepOutput(NDArray prevSample, NDArray predOriginalSample) {
}
