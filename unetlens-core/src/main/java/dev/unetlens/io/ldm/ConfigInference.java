package dev.unetlens.io.ldm;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Rebuilds the diffusers / transformers {@code config.json} contents of an LDM checkpoint from its keys and shapes.
 *
 * <p>diffusers v0.27.2 reads the architecture from the LDM yaml it downloads for the detected family
 * ({@code create_unet_diffusers_config}, {@code create_vae_diffusers_config}, the hub configs of
 * {@code openai/clip-vit-large-patch14}, {@code stabilityai/stable-diffusion-2} and
 * {@code laion/CLIP-ViT-bigG-14-laion2B-39B-b160k}); the yaml's numbers are exactly what the shapes show, so they
 * are read off the shapes here, and the rules that shapes cannot show are the yaml's: SD 1.x attention has 8 heads
 * ({@code num_heads: 8}), SD 2.x and SDXL heads are 64 wide ({@code num_head_channels: 64}, so
 * {@code attention_head_dim[i] = model_channels / 64 · channel_mult[i]}, the head count, as diffusers names it),
 * GroupNorm has 32 groups, text heads are 64 wide. The output has every key diffusers 0.27.2 / transformers 4.38.2
 * save, with their defaults, sorted as {@code save_pretrained} sorts them. A checkpoint these rules cannot describe
 * (the golden tiny models: 8 GroupNorm groups, 2-wide heads) fails with one line asking for explicit configs.
 *
 * <p>This class holds the entry point, the VAE and the scheduler; {@link UnetConfigInference} and
 * {@link TextConfigInference} hold the U-Net and the text encoders.
 */
public final class ConfigInference {
    /** The diffusers version whose config format and defaults this writes. */
    public static final String DIFFUSERS_VERSION = "0.27.2";
    /** The transformers version whose CLIPTextConfig format this writes. */
    public static final String TRANSFORMERS_VERSION = "4.38.2";
    /** LDM's {@code GroupNorm32}: 32 groups, fixed. */
    public static final int LDM_NORM_GROUPS = 32;
    /** v1-inference.yaml {@code num_heads}. */
    static final int SD1_HEADS = 8;
    /** v2-inference-v.yaml and the SGM yamls' {@code num_head_channels}; also the CLIP text head width. */
    static final int HEAD_CHANNELS = 64;

    static final JsonNodeFactory F = JsonNodeFactory.instance;

    private ConfigInference() {
    }

    /**
     * The configs of every component in {@code shapes} (all keys of the file with their shapes).
     *
     * @param source names the checkpoint in messages and in {@link CheckpointConfigs#source()}
     */
    public static CheckpointConfigs infer(LdmFamily family, Map<String, long[]> shapes, String source,
                                          InferOptions options) {
        List<String> notes = new ArrayList<>();
        int imageSize = options.imageSize() != null ? options.imageSize() : defaultImageSize(family, notes);
        String prediction = options.predictionType() != null ? options.predictionType() : guessPrediction(family, notes);
        boolean upcast = options.upcastAttention() != null ? options.upcastAttention() : defaultUpcast(family, notes);

        ShapeKeys vaeKeys = keys(shapes, LdmFamily.VAE_PREFIX, source);
        ObjectNode vae = vaeKeys == null ? null : vae(vaeKeys, family, imageSize);
        int vaeScale = vae == null ? 8 : 1 << (vae.get("block_out_channels").size() - 1);   // no VAE: LDM's f = 8
        ObjectNode unet = UnetConfigInference.unet(new ShapeKeys(shapes, LdmFamily.UNET_PREFIX, source), family,
                imageSize / vaeScale, upcast);
        ShapeKeys te = keys(shapes, family.prefix(LdmComponent.TEXT_ENCODER), source);
        ShapeKeys te2 = keys(shapes, family.prefix(LdmComponent.TEXT_ENCODER_2), source);
        return new CheckpointConfigs("inferred from " + source + " (" + family.label() + ")", unet, vae,
                te == null ? null : family == LdmFamily.SD2
                        ? TextConfigInference.openClip(te, false, true) : TextConfigInference.clip(te),
                te2 == null ? null : TextConfigInference.openClip(te2, true, false),
                scheduler(family, prediction), notes);
    }

    /** The keys under {@code prefix}, or null when the family has no such component or the file lacks it. */
    private static ShapeKeys keys(Map<String, long[]> shapes, String prefix, String source) {
        ShapeKeys k = prefix == null ? null : new ShapeKeys(shapes, prefix, source);
        return k != null && k.any() ? k : null;
    }

    private static int defaultImageSize(LdmFamily family, List<String> notes) {
        return switch (family) {
            case SD1 -> 512;
            case SD2 -> {
                notes.add("image size 768 is diffusers' guess for SD 2.x (2.x-base was trained at 512)");
                yield 768;
            }
            case SDXL, SDXL_REFINER -> 1024;
        };
    }

    private static String guessPrediction(LdmFamily family, List<String> notes) {
        if (family == LdmFamily.SD2) {
            notes.add("prediction_type v_prediction is diffusers' guess for SD 2.x (right for 2.x-768, wrong for"
                    + " 2.x-base, which predicts epsilon); the weights cannot tell");
            return "v_prediction";
        }
        notes.add("prediction_type epsilon is diffusers' default for " + family.label()
                + "; the weights cannot tell a v-prediction fine-tune");
        return "epsilon";
    }

    private static boolean defaultUpcast(LdmFamily family, List<String> notes) {
        if (family == LdmFamily.SD2) {
            notes.add("upcast_attention false: diffusers sets it only from a .ckpt's global_step 110000 (SD 2.1-v);"
                    + " it changes nothing in float32");
        }
        return false;
    }

    /** diffusers {@code create_vae_diffusers_config}, as a saved {@code AutoencoderKL} config. */
    static ObjectNode vae(ShapeKeys k, LdmFamily family, int imageSize) {
        int levels = VaeKeyMap.levels(k.stripped());
        int[] channels = new int[levels];
        ArrayNode down = F.arrayNode();
        ArrayNode up = F.arrayNode();
        for (int i = 0; i < levels; i++) {
            channels[i] = k.dim("encoder.down." + i + ".block.0.conv2.weight", 0);
            down.add("DownEncoderBlock2D");
            up.add("UpDecoderBlock2D");
        }
        requireChannelMultiples(k, "VAE", channels);
        ObjectNode c = diffusersHeader("AutoencoderKL");
        c.put("act_fn", "silu");
        c.set("block_out_channels", ints(channels));
        c.set("down_block_types", down);
        c.put("force_upcast", true);
        c.put("in_channels", k.dim("encoder.conv_in.weight", 1));
        c.put("latent_channels", k.dim("decoder.conv_in.weight", 1));
        c.putNull("latents_mean");
        c.putNull("latents_std");
        c.put("layers_per_block", k.count(Pattern.compile("encoder\\.down\\.0\\.block\\.(\\d{1,9})\\..*")));
        c.put("norm_num_groups", LDM_NORM_GROUPS);
        c.put("out_channels", k.dim("decoder.conv_out.weight", 0));
        c.put("sample_size", imageSize);
        c.put("scaling_factor", family.isXl() ? 0.13025 : 0.18215);   // the yamls' scale_factor
        c.set("up_block_types", up);
        return sorted(c);
    }

    /**
     * The original (LDM) layout writes each level's channels as {@code ch × ch_mult[i]} (U-Net:
     * {@code model_channels × channel_mult[i]}) with integer multipliers; channels that are not multiples of the
     * first level's come from a model LDM's configs cannot describe (a diffusers model converted to this layout),
     * whose other settings its yaml rules would guess wrongly.
     */
    static void requireChannelMultiples(ShapeKeys k, String part, int[] channels) {
        for (int ch : channels) {
            if (ch % channels[0] != 0) {
                throw k.cannot("block_out_channels", "the " + part + "'s level channels "
                        + java.util.Arrays.toString(channels) + " are not multiples of the first level's, which the original"
                        + " (LDM) layout's channel_mult cannot express");
            }
        }
    }

    /**
     * diffusers {@code create_scheduler_from_ldm}: {@code SCHEDULER_DEFAULT_CONFIG} with the prediction type, then
     * for SD 1.x/2.x the yamls' betas with {@code clip_sample} and {@code set_alpha_to_one} false in a
     * {@code DDIMScheduler} (its default {@code scheduler_type}), for SDXL an {@code EulerDiscreteScheduler}; saved
     * as {@code from_config} saves it: the class's parameters with their defaults, plus the passed keys it does not
     * take ({@code interpolation_type}, {@code skip_prk_steps}, ...).
     */
    static ObjectNode scheduler(LdmFamily family, String prediction) {
        ObjectNode c = diffusersHeader(family.isXl() ? "EulerDiscreteScheduler" : "DDIMScheduler");
        c.put("beta_end", 0.012);
        c.put("beta_schedule", "scaled_linear");
        c.put("beta_start", 0.00085);
        c.put("interpolation_type", "linear");
        c.put("num_train_timesteps", 1000);
        c.put("prediction_type", prediction);
        c.put("rescale_betas_zero_snr", false);
        c.put("sample_max_value", 1.0);
        c.put("set_alpha_to_one", false);
        c.put("skip_prk_steps", true);
        c.put("steps_offset", 1);
        c.put("timestep_spacing", "leading");
        c.putNull("trained_betas");
        if (family.isXl()) {
            c.putNull("sigma_max");
            c.putNull("sigma_min");
            c.put("timestep_type", "discrete");
            c.put("use_karras_sigmas", false);
        } else {
            c.put("clip_sample", false);
            c.put("clip_sample_range", 1.0);
            c.put("dynamic_thresholding_ratio", 0.995);
            c.put("thresholding", false);
        }
        return sorted(c);
    }

    static ObjectNode diffusersHeader(String className) {
        ObjectNode c = F.objectNode();
        c.put("_class_name", className);
        c.put("_diffusers_version", DIFFUSERS_VERSION);
        return c;
    }

    static ArrayNode ints(int[] values) {
        ArrayNode a = F.arrayNode();
        for (int v : values) {
            a.add(v);
        }
        return a;
    }

    /** The same node with its keys sorted, as diffusers and transformers write them ({@code sort_keys=True}). */
    static ObjectNode sorted(ObjectNode n) {
        ObjectNode out = F.objectNode();
        TreeSet<String> names = new TreeSet<>();
        n.properties().forEach(e -> names.add(e.getKey()));
        names.forEach(name -> out.set(name, n.get(name)));
        return out;
    }
}
