package dev.unetlens.io.ldm;

import dev.unetlens.io.TensorInfo;

import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * LDM {@code AutoencoderKL} keys → diffusers {@code AutoencoderKL} keys, as diffusers v0.27.2
 * {@code loaders/single_file_utils.py convert_ldm_vae_checkpoint} maps them (keys without the
 * {@code first_stage_model.} prefix):
 *
 * <pre>
 * {encoder,decoder}.norm_out                   {encoder,decoder}.conv_norm_out
 * encoder.down.i.block.j.*                     encoder.down_blocks.i.resnets.j.*
 * encoder.down.i.downsample.conv.*             encoder.down_blocks.i.downsamplers.0.conv.*
 * decoder.up.k.block.j.*                       decoder.up_blocks.(n−1−k).resnets.j.*   (LDM counts from the bottom)
 * decoder.up.k.upsample.conv.*                 decoder.up_blocks.(n−1−k).upsamplers.0.conv.*
 * {encoder,decoder}.mid.block_1 / block_2      {encoder,decoder}.mid_block.resnets.0 / .1
 * {encoder,decoder}.mid.attn_1.{norm,q,k,v,proj_out}
 *                                              ….mid_block.attentions.0.{group_norm,to_q,to_k,to_v,to_out.0}
 * </pre>
 * with {@code nin_shortcut} → {@code conv_shortcut} inside resnets ({@code update_vae_resnet_ldm_to_diffusers}).
 * The attention's q/k/v/proj_out weights are 1×1 conv kernels (C, C, 1, 1) in LDM and Linear weights (C, C) in
 * diffusers ({@code update_vae_attentions_ldm_to_diffusers} takes {@code [:, :, 0, 0]}): the same bytes, seen with
 * the new shape. Only (C, C, 1) and (C, C, 1, 1) kernels are seen so (diffusers takes {@code [:, :, 0]} of rank 3
 * and {@code [:, :, 0, 0]} of rank 4 and leaves other ranks alone); any other shape stays as it is and fails to
 * load. ({@code conv_attn_to_linear}, which diffusers also runs, only touches the pre-0.14 names
 * {@code query/key/value/proj_attn} and changes nothing here.) conv_in, conv_out, quant_conv and post_quant_conv
 * keep their names.
 */
final class VaeKeyMap {
    /** {@code DIFFUSERS_TO_LDM_MAPPING["vae"]}, LDM → diffusers (weight and bias alike). */
    private static final Map<String, String> LAYERS = Map.of(
            "encoder.conv_in", "encoder.conv_in",
            "encoder.conv_out", "encoder.conv_out",
            "encoder.norm_out", "encoder.conv_norm_out",
            "decoder.conv_in", "decoder.conv_in",
            "decoder.conv_out", "decoder.conv_out",
            "decoder.norm_out", "decoder.conv_norm_out",
            "quant_conv", "quant_conv",
            "post_quant_conv", "post_quant_conv");

    /** {@code update_vae_attentions_ldm_to_diffusers}. */
    private static final Map<String, String> ATTENTION = Map.of(
            "norm", "group_norm", "q", "to_q", "k", "to_k", "v", "to_v", "proj_out", "to_out.0");

    private static final Pattern PARAM = Pattern.compile("(.+)\\.(weight|bias)");
    private static final Pattern DOWN_BLOCK = Pattern.compile("encoder\\.down\\.(\\d{1,9})\\.block\\.(\\d{1,9})\\.(.+)");
    private static final Pattern DOWNSAMPLE = Pattern.compile("encoder\\.down\\.(\\d{1,9})\\.downsample\\.conv\\.(weight|bias)");
    private static final Pattern UP_BLOCK = Pattern.compile("decoder\\.up\\.(\\d{1,9})\\.block\\.(\\d{1,9})\\.(.+)");
    private static final Pattern UPSAMPLE = Pattern.compile("decoder\\.up\\.(\\d{1,9})\\.upsample\\.conv\\.(weight|bias)");
    private static final Pattern MID_BLOCK = Pattern.compile("(encoder|decoder)\\.mid\\.block_([12])\\.(.+)");
    private static final Pattern MID_ATTENTION =
            Pattern.compile("(encoder|decoder)\\.mid\\.attn_1\\.(norm|q|k|v|proj_out)\\.(weight|bias)");
    private static final Pattern LEVEL = Pattern.compile("(?:encoder\\.down|decoder\\.up)\\.(\\d{1,9})\\..*");

    private VaeKeyMap() {
    }

    static void map(Map<String, TensorInfo> keys, RemappedSource.Builder out) {
        int levels = levels(keys.keySet());
        for (Map.Entry<String, TensorInfo> e : keys.entrySet()) {
            String key = e.getKey();
            Matcher m = MID_ATTENTION.matcher(key);
            if (m.matches()) {
                String name = m.group(1) + ".mid_block.attentions.0." + ATTENTION.get(m.group(2)) + "." + m.group(3);
                long[] s = e.getValue().shape();
                if ((s.length == 3 || s.length == 4) && trailingOnes(s)) {
                    out.reshape(key, name, s[0], s[1]);   // (C, C, 1, 1) conv kernel → (C, C) Linear weight
                } else {
                    out.rename(key, name);
                }
                continue;
            }
            String name = diffusersName(key, levels);
            if (name == null) {
                out.unknown(key);
            } else {
                out.rename(key, name);
            }
        }
    }

    /** The number of resolution levels (diffusers: len(down_block_types)), from the encoder, else the decoder. */
    static int levels(Iterable<String> keys) {
        TreeSet<Integer> encoder = new TreeSet<>();
        TreeSet<Integer> decoder = new TreeSet<>();
        for (String k : keys) {
            Matcher m = LEVEL.matcher(k);
            if (m.matches()) {
                (k.startsWith("encoder") ? encoder : decoder).add(Integer.parseInt(m.group(1)));
            }
        }
        return !encoder.isEmpty() ? encoder.size() : decoder.size();
    }

    /** The diffusers key of an LDM VAE key other than the mid attention's, or null where diffusers maps none. */
    static String diffusersName(String key, int levels) {
        Matcher m = PARAM.matcher(key);
        if (m.matches() && LAYERS.containsKey(m.group(1))) {
            return LAYERS.get(m.group(1)) + "." + m.group(2);
        }
        m = DOWN_BLOCK.matcher(key);
        if (m.matches() && Integer.parseInt(m.group(1)) < levels) {
            return "encoder.down_blocks." + m.group(1) + ".resnets." + m.group(2) + "." + resnet(m.group(3));
        }
        m = DOWNSAMPLE.matcher(key);
        if (m.matches()) {
            return "encoder.down_blocks." + m.group(1) + ".downsamplers.0.conv." + m.group(2);
        }
        m = UP_BLOCK.matcher(key);
        if (m.matches() && Integer.parseInt(m.group(1)) < levels) {
            int block = levels - 1 - Integer.parseInt(m.group(1));
            return "decoder.up_blocks." + block + ".resnets." + m.group(2) + "." + resnet(m.group(3));
        }
        m = UPSAMPLE.matcher(key);
        if (m.matches() && Integer.parseInt(m.group(1)) < levels) {
            int block = levels - 1 - Integer.parseInt(m.group(1));
            return "decoder.up_blocks." + block + ".upsamplers.0.conv." + m.group(2);
        }
        m = MID_BLOCK.matcher(key);
        if (m.matches()) {
            int resnet = Integer.parseInt(m.group(2)) - 1;
            return m.group(1) + ".mid_block.resnets." + resnet + "." + resnet(m.group(3));
        }
        return null;
    }

    private static String resnet(String rest) {
        return rest.replace("nin_shortcut", "conv_shortcut");
    }

    private static boolean trailingOnes(long[] shape) {
        for (int i = 2; i < shape.length; i++) {
            if (shape[i] != 1) {
                return false;
            }
        }
        return true;
    }
}
