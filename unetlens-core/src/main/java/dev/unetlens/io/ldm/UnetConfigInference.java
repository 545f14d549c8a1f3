package dev.unetlens.io.ldm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Arrays;
import java.util.TreeSet;
import java.util.regex.Pattern;

import static dev.unetlens.io.ldm.ConfigInference.F;

/**
 * The U-Net part of {@link ConfigInference}: diffusers v0.27.2 {@code create_unet_diffusers_config}, with the LDM
 * yaml's {@code unet_config} numbers read off the shapes ({@code model_channels} from conv_in, {@code channel_mult}
 * from each level's first resnet, {@code num_res_blocks} and the levels from {@link UnetLayout},
 * {@code attention_resolutions} from where attentions exist, {@code transformer_depth} from their block counts,
 * {@code context_dim} from a cross-attention key, {@code use_linear_in_transformer} from proj_in's rank,
 * {@code adm_in_channels} from label_emb), written as a saved {@code UNet2DConditionModel} config.
 */
final class UnetConfigInference {
    private UnetConfigInference() {
    }

    /**
     * The U-Net config of the keys in {@code k}; {@code sampleSize} is the latent size (image size / VAE factor),
     * {@code upcast} the resolved {@link InferOptions#upcastAttention()}.
     */
    static ObjectNode unet(ShapeKeys k, LdmFamily family, int sampleSize, boolean upcast) {
        UnetLayout layout = UnetLayout.of(k.stripped(), k.source());
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
            depth[i] = k.count(Pattern.compile(Pattern.quote(block) + "1\\.transformer_blocks\\.(\\d{1,9})\\..*"));
            down.add(depth[i] > 0 ? "CrossAttnDownBlock2D" : "DownBlock2D");
            if (depth[i] > 0 && firstAttention == null) {
                firstAttention = block + "1.";
            }
            String upBlock = "output_blocks." + layout.outputBlock(i, 0) + ".1.";
            up.add(k.anyStartsWith(upBlock, upBlock + "conv") ? "CrossAttnUpBlock2D" : "UpBlock2D");
        }
        ConfigInference.requireChannelMultiples(k, "U-Net", channels);
        int context = LdmFamily.crossAttentionWidth(k.all(), k.source());
        boolean linear = firstAttention != null && k.shape(firstAttention + "proj_in.weight").length == 2;

        ObjectNode c = ConfigInference.diffusersHeader("UNet2DConditionModel");
        c.put("act_fn", "silu");
        c.put("addition_embed_type_num_heads", 64);
        c.put("attention_type", "default");
        c.set("block_out_channels", ConfigInference.ints(channels));
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
        c.put("norm_num_groups", ConfigInference.LDM_NORM_GROUPS);
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
        addition(c, k, family);
        return ConfigInference.sorted(c);
    }

    /**
     * {@code attention_head_dim} (the head count, in diffusers' historical naming): the v1 yaml's 8 heads for SD 1.x;
     * else {@code model_channels // num_head_channels · channel_mult[i]}, as {@code create_unet_diffusers_config}
     * computes it for {@code use_linear_in_transformer} models without {@code num_heads}.
     */
    private static JsonNode headCounts(ShapeKeys k, LdmFamily family, int modelChannels, int[] channels) {
        if (family == LdmFamily.SD1) {
            return F.numberNode(ConfigInference.SD1_HEADS);
        }
        int perLevel = modelChannels / ConfigInference.HEAD_CHANNELS;
        if (perLevel == 0) {
            throw k.cannot("attention_head_dim", "model_channels " + modelChannels + " is below the "
                    + ConfigInference.HEAD_CHANNELS + "-wide heads of " + family.label());
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
    private static void addition(ObjectNode c, ShapeKeys k, LdmFamily family) {
        if (!family.isXl() || !k.has("label_emb.0.0.weight")) {
            c.putNull("addition_embed_type");
            c.putNull("addition_time_embed_dim");
            c.putNull("projection_class_embeddings_input_dim");
            return;
        }
        int adm = k.dim("label_emb.0.0.weight", 1);
        long[] projection = k.all().get(family.prefix(LdmComponent.TEXT_ENCODER_2) + OpenClipKeyMap.TEXT_PROJECTION);
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
}
