package dev.unetlens.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.RgbImage;

import java.util.List;

/**
 * What a run produced, held in plain Java memory (no native arrays to free).
 *
 * @param request         the request it answers
 * @param images          the decoded images, one per batch row
 * @param finalLatents    [B, 4, h, w] latents after the last step
 * @param decoded         [B, 3, H, W] VAE output before clamping
 * @param steps           the steps run and the timestep of each U-Net evaluation
 * @param schedulerConfig the resolved scheduler config (as diffusers' {@code scheduler.config})
 * @param truncated       per prompt, the text beyond CLIP's 77 tokens that was cut (empty if none)
 * @param seconds         wall time per phase: {@code text}, {@code denoise}, {@code decode}
 */
public record GenerationResult(GenerationRequest request, List<RgbImage> images, NpyArray finalLatents,
                               NpyArray decoded, StepPlan steps, ObjectNode schedulerConfig,
                               List<String> truncated, Timings seconds) {

    /** The timestep of each U-Net evaluation, in order (PNDM: one more than the steps). */
    public double[] timesteps() {
        return steps.evaluationTimesteps();
    }

    /**
     * Wall time of each phase, seconds.
     *
     * @param text    prompt encoding
     * @param denoise all sampling steps (U-Net and scheduler)
     * @param decode  VAE decoding
     */
    public record Timings(double text, double denoise, double decode) {
    }
}
