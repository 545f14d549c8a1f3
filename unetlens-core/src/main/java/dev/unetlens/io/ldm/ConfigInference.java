package dev.unetlens.io.ldm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.config.ConfigException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
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

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final Pattern RESBLOCK = Pattern.compile("transformer\\.resblocks\\.(\\d+)\\..*");
    private static final Pattern CLIP_LAYER = Pattern.compile("text_model\\.encoder\\.layers\\.(\\d+)\\..*");

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

        Keys vaeKeys = new Keys(shapes, LdmFamily.VAE_PREFIX, source);
        ObjectNode vae = vaeKeys.any() ? vae(vaeKeys, family, imageSize) : null;
        int vaeScale = vae == null ? 8 : 1 << (vae.get("block_out_channels").size() - 1);
        ObjectNode unet = unet(new Keys(shapes, LdmFamily.UNET_PREFIX, source), family, shapes, imageSize / vaeScale, upcast);
        ObjectNode te = null;
        ObjectNode te2 = null;
        String p1 = family.prefix(LdmComponent.TEXT_ENCODER);
        if (p1 != null && new Keys(shapes, p1, source).any()) {
            Keys k = new Keys(shapes, p1, source);
            te = family == LdmFamily.SD2 ? openClip(k, false, true) : clip(k);
        }
        String p2 = family.prefix(LdmComponent.TEXT_ENCODER_2);
        if (p2 != null && new Keys(shapes, p2, source).any()) {
            te2 = openClip(new Keys(shapes, p2, source), true, false);
        }
        return new CheckpointConfigs("inferred from " + source + " (" + family.label() + ")",
                unet, vae, te, te2, scheduler(family, prediction), notes);
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

    /**
     * diffusers {@code create_unet_diffusers_config} with the yaml's numbers read off the shapes, as a saved
     * {@code UNet2DConditionModel} config.
     */
    static ObjectNode unet(Keys k, LdmFamily family, Map<String, long[]> all, int sampleSize, boolean upcast) {
        UnetLayout layout = UnetLayout.of(k.stripped(), k.source);
        int levels = layout.levels();
        int modelChannels = k.dim("input_blocks.0.0.weight", 0);
        int[] channels = new int[levels];
        int[] depth = new int[levels];   // transformer blocks per level, 0 without attention
        ArrayNode down = F.arrayNode();
        ArrayNode up = F.arrayNode();
        String firstAttention = null;
        for (int i = 0; i < levels; i++) {
            String block = "input_blocks." + layout.inputBlock(i, 0) + ".";
            channels[i] = k.dim(block + "0.out_layers.3.weight", 0);
            depth[i] = k.count(Pattern.compile(Pattern.quote(block) + "1\\.transformer_blocks\\.(\\d+)\\..*"));
            down.add(depth[i] > 0 ? "CrossAttnDownBlock2D" : "DownBlock2D");
            if (depth[i] > 0 && firstAttention == null) {
                firstAttention = block + "1.";
            }
            String upBlock = "output_blocks." + layout.outputBlock(i, 0) + ".1.";
            up.add(k.anyStartsWith(upBlock, upBlock + "conv") ? "CrossAttnUpBlock2D" : "UpBlock2D");
        }
        int context = Math.toIntExact(LdmFamily.crossAttentionWidth(all));
        boolean linear = firstAttention != null && k.shape(firstAttention + "proj_in.weight").length == 2;

        ObjectNode c = diffusersHeader("UNet2DConditionModel");
        c.put("act_fn", "silu");
        c.put("addition_embed_type_num_heads", 64);
        c.put("attention_type", "default");
        c.set("block_out_channels", ints(channels));
        c.put("center_input_sample", false);
        c.putNull("class_embed_type");
        c.put("class_embeddings_concat", false);
        c.put("conv_in_kernel", 3);
        c.put("conv_out_kernel", 3);
        if (context > 0) {
            c.put("cross_attention_dim", context);
        } else {
            c.putNull("cross_attention_dim");
        }
        c.putNull("cross_attention_norm");
        c.set("down_block_types", down);
        c.put("downsample_padding", 1);
        c.put("dropout", 0.0);
        c.put("dual_cross_attention", false);
        c.putNull("encoder_hid_dim");
        c.putNull("encoder_hid_dim_type");
        c.put("flip_sin_to_cos", true);
        c.put("freq_shift", 0);
        c.put("in_channels", k.dim("input_blocks.0.0.weight", 1));
        c.put("layers_per_block", layout.layersPerBlock());
        c.putNull("mid_block_only_cross_attention");
        c.put("mid_block_scale_factor", 1);
        c.put("mid_block_type", "UNetMidBlock2DCrossAttn");
        c.put("norm_eps", 1e-5);
        c.put("norm_num_groups", LDM_NORM_GROUPS);
        c.putNull("num_attention_heads");
        c.putNull("num_class_embeds");
        c.put("only_cross_attention", false);
        c.put("out_channels", k.dim("out.2.weight", 0));
        c.put("resnet_out_scale_factor", 1.0);
        c.put("resnet_skip_time_act", false);
        c.put("resnet_time_scale_shift", "default");
        c.putNull("reverse_transformer_layers_per_block");
        c.put("sample_size", sampleSize);
        c.putNull("time_cond_proj_dim");
        c.putNull("time_embedding_act_fn");
        c.putNull("time_embedding_dim");
        c.put("time_embedding_type", "positional");
        c.putNull("timestep_post_act");
        c.set("transformer_layers_per_block", transformerLayers(depth));
        c.set("up_block_types", up);
        c.put("upcast_attention", upcast);
        c.put("use_linear_projection", linear);
        c.set("attention_head_dim", headCounts(k, family, modelChannels, channels));
        addition(c, k, family, all);
        return sorted(c);
    }

    /**
     * {@code attention_head_dim} (the head count, in diffusers' historical naming): the v1 yaml's 8 heads for SD 1.x;
     * else {@code model_channels // num_head_channels · channel_mult[i]}, as {@code create_unet_diffusers_config}
     * computes it for {@code use_linear_in_transformer} models without {@code num_heads}.
     */
    private static JsonNode headCounts(Keys k, LdmFamily family, int modelChannels, int[] channels) {
        if (family == LdmFamily.SD1) {
            return F.numberNode(SD1_HEADS);
        }
        int perLevel = modelChannels / HEAD_CHANNELS;
        if (perLevel == 0) {
            throw k.cannot("attention_head_dim", "model_channels " + modelChannels + " is below the "
                    + HEAD_CHANNELS + "-wide heads of " + family.label());
        }
        ArrayNode heads = F.arrayNode();
        for (int ch : channels) {
            if (ch % modelChannels != 0) {
                throw k.cannot("attention_head_dim", "block channels " + Arrays.toString(channels)
                        + " are not multiples of model_channels " + modelChannels);
            }
            heads.add(perLevel * (ch / modelChannels));
        }
        return heads;
    }

    /**
     * The yaml's {@code transformer_depth}: an int when every level with attention has the same depth (SD 1.x/2.x:
     * 1, the refiner: 4), else one entry per level with 1 for levels without attention (SDXL base: [1, 2, 10]).
     */
    private static JsonNode transformerLayers(int[] depth) {
        TreeSet<Integer> distinct = new TreeSet<>();
        for (int d : depth) {
            if (d > 0) {
                distinct.add(d);
            }
        }
        if (distinct.size() <= 1) {
            return F.numberNode(distinct.isEmpty() ? 1 : distinct.first());
        }
        ArrayNode list = F.arrayNode();
        for (int d : depth) {
            list.add(d > 0 ? d : 1);
        }
        return list;
    }

    /**
     * SDXL's micro-conditioning ({@code num_classes: sequential} with a 2048/1280 context): addition_embed_type
     * text_time, {@code projection_class_embeddings_input_dim = adm_in_channels} (label_emb's input), and
     * {@code addition_time_embed_dim} = (adm_in − pooled text width) / number of time ids (6 for the base:
     * original size, crop, target size; 5 for the refiner: original size, crop, aesthetic score), which is the
     * 256 that diffusers writes for the real models; 256 when the file has no text projection to measure.
     */
    private static void addition(ObjectNode c, Keys k, LdmFamily family, Map<String, long[]> all) {
        if (!family.isXl() || !k.has("label_emb.0.0.weight")) {
            c.putNull("addition_embed_type");
            c.putNull("addition_time_embed_dim");
            c.putNull("projection_class_embeddings_input_dim");
            return;
        }
        int adm = k.dim("label_emb.0.0.weight", 1);
        long[] projection = all.get(family.prefix(LdmComponent.TEXT_ENCODER_2) + OpenClipKeyMap.TEXT_PROJECTION);
        int timeDim = 256;
        if (projection != null && projection.length == 2) {
            int ids = family == LdmFamily.SDXL ? 6 : 5;
            long rest = adm - projection[1];
            if (rest <= 0 || rest % ids != 0) {
                throw k.cannot("addition_time_embed_dim", "label_emb input " + adm + " minus the pooled width "
                        + projection[1] + " is not " + ids + " equal time embeddings");
            }
            timeDim = Math.toIntExact(rest / ids);
        }
        c.put("addition_embed_type", "text_time");
        c.put("addition_time_embed_dim", timeDim);
        c.put("projection_class_embeddings_input_dim", adm);
    }

    /** diffusers {@code create_vae_diffusers_config}, as a saved {@code AutoencoderKL} config. */
    static ObjectNode vae(Keys k, LdmFamily family, int imageSize) {
        int levels = VaeKeyMap.levels(k.stripped());
        int[] channels = new int[levels];
        ArrayNode down = F.arrayNode();
        ArrayNode up = F.arrayNode();
        for (int i = 0; i < levels; i++) {
            channels[i] = k.dim("encoder.down." + i + ".block.0.conv2.weight", 0);
            down.add("DownEncoderBlock2D");
            up.add("UpDecoderBlock2D");
        }
        ObjectNode c = diffusersHeader("AutoencoderKL");
        c.put("act_fn", "silu");
        c.set("block_out_channels", ints(channels));
        c.set("down_block_types", down);
        c.put("force_upcast", true);
        c.put("in_channels", k.dim("encoder.conv_in.weight", 1));
        c.put("latent_channels", k.dim("decoder.conv_in.weight", 1));
        c.putNull("latents_mean");
        c.putNull("latents_std");
        c.put("layers_per_block", k.count(Pattern.compile("encoder\\.down\\.0\\.block\\.(\\d+)\\..*")));
        c.put("norm_num_groups", LDM_NORM_GROUPS);
        c.put("out_channels", k.dim("decoder.conv_out.weight", 0));
        c.put("sample_size", imageSize);
        c.put("scaling_factor", family.isXl() ? 0.13025 : 0.18215);   // the yamls' scale_factor
        c.set("up_block_types", up);
        return sorted(c);
    }

    /** CLIP ViT-L/14 in transformers naming: openai/clip-vit-large-patch14's text config, sizes from the shapes. */
    static ObjectNode clip(Keys k) {
        int hidden = k.dim("text_model.embeddings.token_embedding.weight", 1);
        return textConfig(k, "CLIPTextModel", "quick_gelu", hidden,
                k.dim("text_model.embeddings.token_embedding.weight", 0),
                k.dim("text_model.embeddings.position_embedding.weight", 0),
                k.count(CLIP_LAYER),
                k.dim("text_model.encoder.layers.0.mlp.fc1.weight", 0),
                768);
    }

    /**
     * An OpenCLIP text tower as transformers CLIP: stabilityai/stable-diffusion-2's text config (SD 2.x: one layer
     * fewer than the tower, projection_dim 512, unused) or laion's ViT-bigG config with {@code projection_dim} from
     * the projection (SDXL); exact {@code gelu}.
     */
    static ObjectNode openClip(Keys k, boolean withProjection, boolean dropLastLayer) {
        int hidden = k.dim("token_embedding.weight", 1);
        int blocks = k.count(RESBLOCK);
        return textConfig(k, withProjection ? "CLIPTextModelWithProjection" : "CLIPTextModel", "gelu", hidden,
                k.dim("token_embedding.weight", 0),
                k.dim("positional_embedding", 0),
                dropLastLayer ? blocks - 1 : blocks,
                k.dim("transformer.resblocks.0.mlp.c_fc.weight", 0),
                withProjection ? k.dim(OpenClipKeyMap.TEXT_PROJECTION, 1) : 512);
    }

    private static ObjectNode textConfig(Keys k, String architecture, String act, int hidden, int vocab,
                                         int positions, int layers, int intermediate, int projection) {
        if (hidden % HEAD_CHANNELS != 0) {
            throw k.cannot("num_attention_heads", "text width " + hidden + " is not a multiple of the "
                    + HEAD_CHANNELS + "-wide CLIP heads");
        }
        if (layers < 1) {
            throw k.cannot("num_hidden_layers", "the text encoder has no layers");
        }
        ObjectNode c = F.objectNode();
        c.set("architectures", F.arrayNode().add(architecture));
        c.put("attention_dropout", 0.0);
        c.put("bos_token_id", 0);
        c.put("dropout", 0.0);
        c.put("eos_token_id", 2);
        c.put("hidden_act", act);
        c.put("hidden_size", hidden);
        c.put("initializer_factor", 1.0);
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", intermediate);
        c.put("layer_norm_eps", 1e-5);
        c.put("max_position_embeddings", positions);
        c.put("model_type", "clip_text_model");
        c.put("num_attention_heads", hidden / HEAD_CHANNELS);
        c.put("num_hidden_layers", layers);
        c.put("output_attentions", false);
        c.put("output_hidden_states", false);
        c.put("pad_token_id", 1);
        c.put("projection_dim", projection);
        c.put("return_dict", true);
        c.put("torch_dtype", "float32");
        c.put("transformers_version", TRANSFORMERS_VERSION);
        c.put("vocab_size", vocab);
        return sorted(c);
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

    private static ObjectNode diffusersHeader(String className) {
        ObjectNode c = F.objectNode();
        c.put("_class_name", className);
        c.put("_diffusers_version", DIFFUSERS_VERSION);
        return c;
    }

    private static ArrayNode ints(int[] values) {
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

    /** The keys of one component (file keys under {@code prefix}), with shape look-ups that fail in one line. */
    record Keys(Map<String, long[]> all, String prefix, String source) {
        boolean any() {
            return all.keySet().stream().anyMatch(key -> key.startsWith(prefix));
        }

        List<String> stripped() {
            return all.keySet().stream().filter(key -> key.startsWith(prefix))
                    .map(key -> key.substring(prefix.length())).toList();
        }

        boolean has(String key) {
            return all.containsKey(prefix + key);
        }

        long[] shape(String key) {
            long[] s = all.get(prefix + key);
            if (s == null) {
                throw new ConfigException(source + ": no " + prefix + key + ", which the "
                        + prefix.replaceAll("\\.$", "") + " config is read from");
            }
            return s;
        }

        int dim(String key, int axis) {
            long[] s = shape(key);
            if (s.length <= axis) {
                throw new ConfigException(source + ": " + prefix + key + " has shape " + Arrays.toString(s)
                        + ", expected at least " + (axis + 1) + " dimensions");
            }
            return Math.toIntExact(s[axis]);
        }

        /** Whether some key starts with {@code start} but not with {@code exclude}. */
        boolean anyStartsWith(String start, String exclude) {
            return all.keySet().stream().anyMatch(key -> key.startsWith(prefix + start)
                    && !key.startsWith(prefix + exclude));
        }

        /** The number of distinct values of {@code pattern}'s group 1 among the stripped keys. */
        int count(Pattern pattern) {
            TreeSet<String> seen = new TreeSet<>();
            for (String key : stripped()) {
                Matcher m = pattern.matcher(key);
                if (m.matches()) {
                    seen.add(m.group(1));
                }
            }
            return seen.size();
        }

        ConfigException cannot(String field, String why) {
            return new ConfigException(source + ": cannot infer " + field + " from the weights: " + why
                    + "; pass the diffusers configs explicitly (a diffusers folder's config.json files)");
        }
    }
}
