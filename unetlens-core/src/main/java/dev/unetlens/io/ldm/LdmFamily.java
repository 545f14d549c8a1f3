package dev.unetlens.io.ldm;

import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.ConfigException;

import java.util.Map;

/**
 * The Stable Diffusion generations a single-file checkpoint can hold, told apart by their text-encoder keys, and
 * the LDM key prefix of each component.
 *
 * <table>
 *   <caption>Component prefixes</caption>
 *   <tr><th>family</th><th>text_encoder</th><th>text_encoder_2</th></tr>
 *   <tr><td>SD 1.x</td><td>{@code cond_stage_model.transformer.} (transformers CLIP)</td><td>-</td></tr>
 *   <tr><td>SD 2.x</td><td>{@code cond_stage_model.model.} (OpenCLIP ViT-H)</td><td>-</td></tr>
 *   <tr><td>SDXL base</td><td>{@code conditioner.embedders.0.transformer.}</td>
 *       <td>{@code conditioner.embedders.1.model.} (OpenCLIP ViT-bigG)</td></tr>
 *   <tr><td>SDXL refiner</td><td>-</td><td>{@code conditioner.embedders.0.model.}</td></tr>
 * </table>
 * Every family has the U-Net under {@code model.diffusion_model.} and the VAE under {@code first_stage_model.}.
 */
public enum LdmFamily {
    SD1("SD 1.x", "cond_stage_model.transformer.", null),
    SD2("SD 2.x", "cond_stage_model.model.", null),
    SDXL("SDXL base", "conditioner.embedders.0.transformer.", "conditioner.embedders.1.model."),
    SDXL_REFINER("SDXL refiner", null, "conditioner.embedders.0.model.");

    /** diffusers {@code LDM_UNET_KEY}. */
    public static final String UNET_PREFIX = "model.diffusion_model.";
    /** diffusers {@code LDM_VAE_KEY}. */
    public static final String VAE_PREFIX = "first_stage_model.";

    /**
     * diffusers {@code CHECKPOINT_KEY_NAMES["v2"]}: the U-Net-only fallback tells SD 2.x by this tensor's
     * cross-attention width (1024).
     */
    static final String V2_PROBE = "input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight";

    private final String label;
    private final String textEncoderPrefix;
    private final String textEncoder2Prefix;

    LdmFamily(String label, String textEncoderPrefix, String textEncoder2Prefix) {
        this.label = label;
        this.textEncoderPrefix = textEncoderPrefix;
        this.textEncoder2Prefix = textEncoder2Prefix;
    }

    /** Human name ({@code SD 2.x}). */
    public String label() {
        return label;
    }

    /** SDXL base or refiner: micro-conditioning through {@code label_emb}, Euler scheduler, VAE scale 0.13025. */
    public boolean isXl() {
        return this == SDXL || this == SDXL_REFINER;
    }

    /** The LDM key prefix of a component in this family, or null when the family has no such component. */
    public String prefix(LdmComponent c) {
        return switch (c) {
            case UNET -> UNET_PREFIX;
            case VAE -> VAE_PREFIX;
            case TEXT_ENCODER -> textEncoderPrefix;
            case TEXT_ENCODER_2 -> textEncoder2Prefix;
        };
    }

    /**
     * Tells the family from the checkpoint's keys ({@code shapes}: every key with its shape), failing with one line
     * when the file is not a Stable Diffusion checkpoint in LDM naming.
     *
     * <p>The text encoders decide, as diffusers' {@code infer_original_config_file} and {@code infer_model_type} do
     * with {@code CHECKPOINT_KEY_NAMES}: {@code conditioner.embedders.1.model.*} is SDXL base,
     * {@code conditioner.embedders.0.model.*} the refiner, {@code cond_stage_model.model.*} SD 2.x,
     * {@code cond_stage_model.transformer.*} SD 1.x. A file with a U-Net but no text encoder falls back on the
     * U-Net itself: {@code label_emb} is SDXL (base if the cross-attention width is 2048, as diffusers'
     * {@code infer_model_type} decides), a 1024-wide {@link #V2_PROBE} is SD 2.x, anything else SD 1.x.
     */
    public static LdmFamily detect(Map<String, long[]> shapes, String source) {
        boolean unet = false;
        boolean xlBase = false;
        boolean xlRefiner = false;
        boolean sd2 = false;
        boolean sd1 = false;
        for (String k : shapes.keySet()) {
            unet |= k.startsWith(UNET_PREFIX);
            xlBase |= k.startsWith(SDXL.textEncoder2Prefix);
            xlRefiner |= k.startsWith(SDXL_REFINER.textEncoder2Prefix);
            sd2 |= k.startsWith(SD2.textEncoderPrefix);
            sd1 |= k.startsWith(SD1.textEncoderPrefix);
        }
        if (!unet) {
            throw new UnetlensException(source + ": no " + UNET_PREFIX + "* keys: not a Stable Diffusion checkpoint in"
                    + " the original LDM/CompVis naming" + hint(shapes));
        }
        if (xlBase) {
            return SDXL;
        }
        if (xlRefiner) {
            return SDXL_REFINER;
        }
        if (sd2) {
            return SD2;
        }
        if (sd1) {
            return SD1;
        }
        long[] labelEmb = shapes.get(UNET_PREFIX + "label_emb.0.0.weight");
        if (labelEmb != null) {
            return crossAttentionWidth(shapes, source) == 2048 ? SDXL : SDXL_REFINER;
        }
        long[] probe = shapes.get(UNET_PREFIX + V2_PROBE);
        return probe != null && probe.length == 2 && probe[1] == 1024 ? SD2 : SD1;
    }

    /**
     * The key dimension of the first cross-attention in the file, 0 if there is none; fails in one line when that
     * weight is no [out, in] matrix or its width is no int.
     */
    static int crossAttentionWidth(Map<String, long[]> shapes, String source) {
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            if (e.getKey().startsWith(UNET_PREFIX) && e.getKey().endsWith(".attn2.to_k.weight")) {
                long[] s = e.getValue();
                if (s.length != 2 || s[1] > Integer.MAX_VALUE) {
                    throw ConfigException.at(source, Messages.quote(e.getKey()) + " has shape "
                            + Messages.shape(s) + "; a cross-attention key weight is a matrix [out, in]");
                }
                return (int) s[1];
            }
        }
        return 0;
    }

    /** What the file looks like instead, when that is easy to tell. */
    private static String hint(Map<String, long[]> shapes) {
        if (shapes.isEmpty()) {
            return " (the file holds no tensors)";
        }
        if (shapes.containsKey("conv_in.weight") && shapes.keySet().stream().anyMatch(k -> k.startsWith("down_blocks."))) {
            return "; it looks like one diffusers component file: open the diffusers folder that holds it instead";
        }
        if (shapes.keySet().stream().anyMatch(k -> k.startsWith("text_model."))) {
            return "; it looks like a transformers CLIP text model, not a whole checkpoint";
        }
        if (shapes.keySet().stream().anyMatch(k -> k.startsWith("lora_") || k.contains(".lora_") || k.contains("lora_down"))) {
            return "; it looks like a LoRA, which only modifies a base checkpoint";
        }
        if (shapes.keySet().stream().anyMatch(k -> k.startsWith("encoder.down.") || k.startsWith("decoder.up."))) {
            return "; it looks like a VAE alone, not a whole checkpoint";
        }
        return "";
    }
}
