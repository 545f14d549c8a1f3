package dev.unetlens.io.ldm;

import java.io.ByteArrayOutputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * diffusers / transformers state dicts → LDM naming, written for the tests as the inverse of what
 * {@link SingleFileCheckpoint} reads: diffusers' {@code scripts/convert_diffusers_to_original_stable_diffusion.py}
 * and {@code convert_diffusers_to_original_sdxl.py} with the block counts taken from the keys rather than
 * hard-coded (and the SDXL upsampler position fixed by rule: {@code .2.conv} behind an attention, else {@code .1}).
 * Checked against the golden tiny-sd15 single file, which diffusers' script made.
 */
final class DiffusersToLdm {
    private static final Map<String, String> UNET_FIXED = Map.of(
            "time_embedding.linear_1", "time_embed.0", "time_embedding.linear_2", "time_embed.2",
            "conv_in", "input_blocks.0.0", "conv_norm_out", "out.0", "conv_out", "out.2",
            "add_embedding.linear_1", "label_emb.0.0", "add_embedding.linear_2", "label_emb.0.2");
    private static final Map<String, String> RESNET = Map.of(
            "norm1", "in_layers.0", "conv1", "in_layers.2", "time_emb_proj", "emb_layers.1",
            "norm2", "out_layers.0", "conv2", "out_layers.3", "conv_shortcut", "skip_connection");
    private static final Map<String, String> VAE_ATTENTION = Map.of(
            "group_norm", "norm", "to_q", "q", "to_k", "k", "to_v", "v", "to_out.0", "proj_out");

    private static final Pattern PARAM = Pattern.compile("(.+)\\.(weight|bias)");
    private static final Pattern DOWN = Pattern.compile("down_blocks\\.(\\d+)\\.(resnets|attentions)\\.(\\d+)\\.(.+)");
    private static final Pattern DOWNSAMPLER = Pattern.compile("down_blocks\\.(\\d+)\\.downsamplers\\.0\\.conv\\.(.+)");
    private static final Pattern UP = Pattern.compile("up_blocks\\.(\\d+)\\.(resnets|attentions)\\.(\\d+)\\.(.+)");
    private static final Pattern UPSAMPLER = Pattern.compile("up_blocks\\.(\\d+)\\.upsamplers\\.0\\.conv\\.(.+)");
    private static final Pattern MID = Pattern.compile("mid_block\\.(resnets|attentions)\\.(\\d+)\\.(.+)");

    private DiffusersToLdm() {
    }

    /** A diffusers {@code UNet2DConditionModel} state dict in LDM {@code UNetModel} naming. */
    static Map<String, Blob> unet(Map<String, Blob> d) {
        int layers = count(d, Pattern.compile("down_blocks\\.0\\.resnets\\.(\\d+)\\..*"));
        int per = layers + 1;
        Map<String, Blob> out = new LinkedHashMap<>();
        for (Map.Entry<String, Blob> e : d.entrySet()) {
            String k = e.getKey();
            String ldm;
            Matcher m;
            if ((m = PARAM.matcher(k)).matches() && UNET_FIXED.containsKey(m.group(1))) {
                ldm = UNET_FIXED.get(m.group(1)) + "." + m.group(2);
            } else if ((m = DOWN.matcher(k)).matches()) {
                int i = Integer.parseInt(m.group(1)) * per + Integer.parseInt(m.group(3)) + 1;
                ldm = "input_blocks." + i + (m.group(2).equals("resnets") ? ".0." + resnet(m.group(4)) : ".1." + m.group(4));
            } else if ((m = DOWNSAMPLER.matcher(k)).matches()) {
                ldm = "input_blocks." + (Integer.parseInt(m.group(1)) + 1) * per + ".0.op." + m.group(2);
            } else if ((m = MID.matcher(k)).matches()) {
                ldm = m.group(1).equals("resnets")
                        ? "middle_block." + 2 * Integer.parseInt(m.group(2)) + "." + resnet(m.group(3))
                        : "middle_block.1." + m.group(3);
            } else if ((m = UP.matcher(k)).matches()) {
                int i = Integer.parseInt(m.group(1)) * per + Integer.parseInt(m.group(3));
                ldm = "output_blocks." + i + (m.group(2).equals("resnets") ? ".0." + resnet(m.group(4)) : ".1." + m.group(4));
            } else if ((m = UPSAMPLER.matcher(k)).matches()) {
                int block = Integer.parseInt(m.group(1));
                boolean attention = d.keySet().stream().anyMatch(x -> x.startsWith("up_blocks." + block + ".attentions."));
                ldm = "output_blocks." + (block * per + layers) + "." + (attention ? 2 : 1) + ".conv." + m.group(2);
            } else {
                throw new IllegalArgumentException("no LDM name for U-Net key " + k);
            }
            out.put(ldm, e.getValue());
        }
        return out;
    }

    private static String resnet(String rest) {
        int dot = rest.indexOf('.');
        return RESNET.getOrDefault(rest.substring(0, dot), rest.substring(0, dot)) + rest.substring(dot);
    }

    /** A diffusers {@code AutoencoderKL} state dict in LDM naming, attention weights as 1×1 conv kernels. */
    static Map<String, Blob> vae(Map<String, Blob> d) {
        int levels = count(d, Pattern.compile("encoder\\.down_blocks\\.(\\d+)\\..*"));
        Map<String, Blob> out = new LinkedHashMap<>();
        Pattern down = Pattern.compile("encoder\\.down_blocks\\.(\\d+)\\.(resnets|downsamplers)\\.(\\d+)\\.(.+)");
        Pattern up = Pattern.compile("decoder\\.up_blocks\\.(\\d+)\\.(resnets|upsamplers)\\.(\\d+)\\.(.+)");
        Pattern mid = Pattern.compile("(encoder|decoder)\\.mid_block\\.(resnets|attentions)\\.(\\d+)\\.(.+)");
        for (Map.Entry<String, Blob> e : d.entrySet()) {
            String k = e.getKey();
            Blob v = e.getValue();
            Matcher m;
            String ldm;
            if ((m = down.matcher(k)).matches()) {
                ldm = "encoder.down." + m.group(1) + (m.group(2).equals("resnets")
                        ? ".block." + m.group(3) + "." + m.group(4).replace("conv_shortcut", "nin_shortcut")
                        : ".downsample." + m.group(4));
            } else if ((m = up.matcher(k)).matches()) {
                int level = levels - 1 - Integer.parseInt(m.group(1));
                ldm = "decoder.up." + level + (m.group(2).equals("resnets")
                        ? ".block." + m.group(3) + "." + m.group(4).replace("conv_shortcut", "nin_shortcut")
                        : ".upsample." + m.group(4));
            } else if ((m = mid.matcher(k)).matches() && m.group(2).equals("resnets")) {
                ldm = m.group(1) + ".mid.block_" + (Integer.parseInt(m.group(3)) + 1) + "."
                        + m.group(4).replace("conv_shortcut", "nin_shortcut");
            } else if (m.matches()) {
                Matcher p = PARAM.matcher(m.group(4));
                if (!p.matches() || !VAE_ATTENTION.containsKey(p.group(1))) {
                    throw new IllegalArgumentException("no LDM name for VAE key " + k);
                }
                ldm = m.group(1) + ".mid.attn_1." + VAE_ATTENTION.get(p.group(1)) + "." + p.group(2);
                if (v.shape().length == 2) {
                    v = v.reshaped(v.shape()[0], v.shape()[1], 1, 1);
                }
            } else {
                ldm = k.replace("conv_norm_out", "norm_out");
            }
            out.put(ldm, v);
        }
        return out;
    }

    /**
     * A transformers CLIP text model as OpenCLIP's text tower: q/k/v concatenated into {@code in_proj_*},
     * {@code text_projection.weight} (P, D) transposed into {@code text_projection} (D, P).
     */
    static Map<String, Blob> openClip(Map<String, Blob> d) {
        Map<String, Blob> out = new LinkedHashMap<>();
        Map<String, Blob[]> fused = new TreeMap<>();
        Pattern qkv = Pattern.compile("text_model\\.encoder\\.layers\\.(\\d+)\\.self_attn\\.([qkv])_proj\\.(weight|bias)");
        Pattern layer = Pattern.compile("text_model\\.encoder\\.layers\\.(\\d+)\\.(.+)");
        for (Map.Entry<String, Blob> e : d.entrySet()) {
            String k = e.getKey();
            Matcher m = qkv.matcher(k);
            if (m.matches()) {
                String key = "transformer.resblocks." + m.group(1) + ".attn.in_proj_" + m.group(3);
                fused.computeIfAbsent(key, x -> new Blob[3])["qkv".indexOf(m.group(2))] = e.getValue();
                continue;
            }
            Matcher l = layer.matcher(k);
            String ldm = switch (k) {
                case "text_model.embeddings.token_embedding.weight" -> "token_embedding.weight";
                case "text_model.embeddings.position_embedding.weight" -> "positional_embedding";
                case "text_model.final_layer_norm.weight" -> "ln_final.weight";
                case "text_model.final_layer_norm.bias" -> "ln_final.bias";
                case "text_projection.weight" -> "text_projection";
                default -> {
                    if (!l.matches()) {
                        throw new IllegalArgumentException("no OpenCLIP name for " + k);
                    }
                    yield "transformer.resblocks." + l.group(1) + "." + l.group(2).replace("layer_norm1", "ln_1")
                            .replace("layer_norm2", "ln_2").replace("mlp.fc1", "mlp.c_fc").replace("mlp.fc2", "mlp.c_proj")
                            .replace("self_attn.out_proj", "attn.out_proj");
                }
            };
            out.put(ldm, ldm.equals("text_projection") ? transpose(e.getValue()) : e.getValue());
        }
        fused.forEach((k, parts) -> out.put(k, concatRows(parts)));
        return out;
    }

    private static Blob concatRows(Blob[] parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        long[] shape = parts[0].shape().clone();
        shape[0] *= 3;
        for (Blob p : parts) {
            b.writeBytes(p.data());
        }
        return new Blob(parts[0].dtype(), shape, b.toByteArray());
    }

    static Blob transpose(Blob m) {
        int rows = (int) m.shape()[0];
        int cols = (int) m.shape()[1];
        int size = m.dtype().size();
        byte[] t = new byte[m.data().length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                System.arraycopy(m.data(), (i * cols + j) * size, t, (j * rows + i) * size, size);
            }
        }
        return new Blob(m.dtype(), new long[] {cols, rows}, t);
    }

    /** {@code part}'s keys under {@code prefix}, added to {@code into}; returns {@code into}. */
    static Map<String, Blob> prefixed(Map<String, Blob> into, String prefix, Map<String, Blob> part) {
        part.forEach((k, v) -> into.put(prefix + k, v));
        return into;
    }

    private static int count(Map<String, ?> d, Pattern p) {
        TreeSet<String> seen = new TreeSet<>();
        for (String k : d.keySet()) {
            Matcher m = p.matcher(k);
            if (m.matches()) {
                seen.add(m.group(1));
            }
        }
        return seen.size();
    }
}
