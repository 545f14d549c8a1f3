package dev.unetlens.io.ldm;

import dev.unetlens.config.ConfigException;

import java.util.Set;

/**
 * The settings that LDM weights do not record, for {@link ConfigInference}. A null field means diffusers v0.27.2's
 * rule for a single file without its yaml and without a {@code global_step} (which a safetensors file cannot carry):
 *
 * @param predictionType  {@code epsilon}, {@code v_prediction} or {@code sample}; null: diffusers' guess
 *                        ({@code create_scheduler_from_ldm}): {@code v_prediction} for SD 2.x (its yaml is
 *                        v2-inference-v; right for 2.x-768, wrong for 2.x-base), {@code epsilon} otherwise
 * @param imageSize       the training resolution in pixels; null: diffusers' {@code set_image_size}: 512 for SD 1.x,
 *                        768 for SD 2.x, 1024 for SDXL. Sets the U-Net's and the VAE's {@code sample_size}
 * @param upcastAttention null: false. diffusers sets it only from a {@code .ckpt}'s {@code global_step == 110000}
 *                        (SD 2.1-v, {@code convert_from_ckpt}); its single-file loader leaves it false. It changes
 *                        nothing in float32
 */
public record InferOptions(String predictionType, Integer imageSize, Boolean upcastAttention) {
    public static final Set<String> PREDICTION_TYPES = Set.of("epsilon", "v_prediction", "sample");

    /** Every setting from diffusers' rules. */
    public static final InferOptions DIFFUSERS_DEFAULTS = new InferOptions(null, null, null);

    public InferOptions {
        if (predictionType != null && !PREDICTION_TYPES.contains(predictionType)) {
            throw new ConfigException("prediction type must be epsilon, v_prediction or sample, got '" + predictionType + "'");
        }
        if (imageSize != null && (imageSize < 8 || imageSize % 8 != 0)) {
            throw new ConfigException("image size must be a positive multiple of 8, got " + imageSize);
        }
    }
}
