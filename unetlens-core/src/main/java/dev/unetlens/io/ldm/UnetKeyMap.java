package dev.unetlens.io.ldm;

import dev.unetlens.io.TensorInfo;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * LDM {@code UNetModel} keys → diffusers {@code UNet2DConditionModel} keys, as diffusers v0.27.2
 * {@code loaders/single_file_utils.py convert_ldm_unet_checkpoint} maps them (keys here are without the
 * {@code model.diffusion_model.} prefix):
 *
 * <pre>
 * time_embed.0 / .2                        time_embedding.linear_1 / linear_2
 * label_emb.0.0 / .0.2   (SDXL, text_time) add_embedding.linear_1 / linear_2
 * input_blocks.0.0 / out.0 / out.2         conv_in / conv_norm_out / conv_out
 * input_blocks.i.0.*    (i ≥ 1)            down_blocks.b.resnets.l.*       b = (i−1) / (L+1), l = (i−1) % (L+1)
 * input_blocks.i.0.op.*                    down_blocks.b.downsamplers.0.conv.*
 * input_blocks.i.1.*                       down_blocks.b.attentions.l.*
 * middle_block.0 / .1 / .2                 mid_block.resnets.0 / attentions.0 / resnets.1
 * output_blocks.i.0.*                      up_blocks.b.resnets.l.*         b = i / (L+1),     l = i % (L+1)
 * output_blocks.i.1.*   (not conv)         up_blocks.b.attentions.l.*
 * output_blocks.i.{1,2}.conv.*             up_blocks.b.upsamplers.0.conv.*
 * </pre>
 * with L = layers_per_block and, inside resnets, {@code update_unet_resnet_ldm_to_diffusers}'s renames. Attention
 * sub-keys are the same in both namings, and no tensor changes shape. Keys that none of these rules take are ones
 * diffusers silently drops; here they stay under their LDM name so that loading names them.
 */
final class UnetKeyMap {
    /** {@code DIFFUSERS_TO_LDM_MAPPING["unet"]["layers"]}, LDM → diffusers. */
    private static final Map<String, String> LAYERS = Map.of(
            "time_embed.0.weight", "time_embedding.linear_1.weight",
            "time_embed.0.bias", "time_embedding.linear_1.bias",
            "time_embed.2.weight", "time_embedding.linear_2.weight",
            "time_embed.2.bias", "time_embedding.linear_2.bias",
            "input_blocks.0.0.weight", "conv_in.weight",
            "input_blocks.0.0.bias", "conv_in.bias",
            "out.0.weight", "conv_norm_out.weight",
            "out.0.bias", "conv_norm_out.bias",
            "out.2.weight", "conv_out.weight",
            "out.2.bias", "conv_out.bias");

    /** {@code DIFFUSERS_TO_LDM_MAPPING["unet"]["addition_embed_type"]}, used when addition_embed_type is text_time. */
    private static final Map<String, String> ADDITION = Map.of(
            "label_emb.0.0.weight", "add_embedding.linear_1.weight",
            "label_emb.0.0.bias", "add_embedding.linear_1.bias",
            "label_emb.0.2.weight", "add_embedding.linear_2.weight",
            "label_emb.0.2.bias", "add_embedding.linear_2.bias");

    /** {@code update_unet_resnet_ldm_to_diffusers}, applied in this order. */
    private static final String[][] RESNET = {
            {"in_layers.0", "norm1"},
            {"in_layers.2", "conv1"},
            {"out_layers.0", "norm2"},
            {"out_layers.3", "conv2"},
            {"emb_layers.1", "time_emb_proj"},
            {"skip_connection", "conv_shortcut"},
    };

    private static final Pattern BLOCK = Pattern.compile("(input|output)_blocks\\.(\\d{1,9})\\.(\\d{1,9})\\.(.+)");
    private static final Pattern MIDDLE = Pattern.compile("middle_block\\.(\\d{1,9})\\.(.+)");

    private UnetKeyMap() {
    }

    /**
     * Maps every U-Net key into {@code out}.
     *
     * @param textTime whether {@code label_emb} is SDXL's {@code add_embedding} (diffusers maps it only when the
     *                 config's addition_embed_type is text_time)
     */
    static void map(Map<String, TensorInfo> keys, boolean textTime, RemappedSource.Builder out) {
        UnetLayout layout = UnetLayout.of(keys.keySet(), out.describe());
        for (String key : keys.keySet()) {
            String name = diffusersName(key, layout, textTime);
            if (name == null) {
                out.unknown(key);
            } else {
                out.rename(key, name);
            }
        }
    }

    /** The diffusers key of one LDM U-Net key, or null where diffusers maps none. */
    static String diffusersName(String key, UnetLayout layout, boolean textTime) {
        String fixed = LAYERS.get(key);
        if (fixed == null && textTime) {
            fixed = ADDITION.get(key);
        }
        if (fixed != null) {
            return fixed;
        }
        Matcher m = MIDDLE.matcher(key);
        if (m.matches()) {
            String rest = m.group(2);
            return switch (Integer.parseInt(m.group(1))) {
                case 0 -> "mid_block.resnets.0." + resnet(rest);
                case 1 -> "mid_block.attentions.0." + rest;
                case 2 -> "mid_block.resnets.1." + resnet(rest);
                default -> null;
            };
        }
        m = BLOCK.matcher(key);
        if (!m.matches()) {
            return null;
        }
        int i = Integer.parseInt(m.group(2));
        int j = Integer.parseInt(m.group(3));
        String rest = m.group(4);
        int per = layout.layersPerBlock() + 1;
        return m.group(1).equals("input") ? down(i, j, rest, per) : up(i, j, rest, per);
    }

    private static String down(int i, int j, String rest, int per) {
        if (i == 0) {
            return null;   // conv_in: only its weight and bias, in LAYERS
        }
        String block = "down_blocks." + (i - 1) / per + ".";
        int layer = (i - 1) % per;
        if (j == 0 && rest.startsWith("op")) {
            return isParam(rest, "op.") ? block + "downsamplers.0.conv." + rest.substring(3) : null;
        }
        return switch (j) {
            case 0 -> block + "resnets." + layer + "." + resnet(rest);
            case 1 -> block + "attentions." + layer + "." + rest;
            default -> null;
        };
    }

    private static String up(int i, int j, String rest, int per) {
        String block = "up_blocks." + i / per + ".";
        int layer = i % per;
        if ((j == 1 || j == 2) && rest.startsWith("conv")) {
            return isParam(rest, "conv.") ? block + "upsamplers.0.conv." + rest.substring(5) : null;
        }
        return switch (j) {
            case 0 -> rest.startsWith("op") ? null : block + "resnets." + layer + "." + resnet(rest);
            case 1 -> block + "attentions." + layer + "." + rest;
            default -> null;
        };
    }

    private static boolean isParam(String rest, String module) {
        return rest.equals(module + "weight") || rest.equals(module + "bias");
    }

    private static String resnet(String rest) {
        for (String[] r : RESNET) {
            rest = rest.replace(r[0], r[1]);
        }
        return rest;
    }
}
