package dev.unetlens.io.ldm;

import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;
import dev.unetlens.io.DType;
import dev.unetlens.io.Segments;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * diffusers / transformers components → the tensors of one LDM single-file checkpoint: the inverse of what
 * {@link SingleFileCheckpoint} reads, as diffusers' {@code scripts/convert_diffusers_to_original_stable_diffusion.py}
 * and {@code convert_diffusers_to_original_sdxl.py} write it, with the block counts taken from the keys rather than
 * hard-coded (and the upsampler's position by rule: {@code .2.conv} behind an attention, else {@code .1.conv}).
 * VAE attention weights become 1×1 conv kernels, OpenCLIP towers get their q/k/v fused into {@code in_proj} and
 * their projection transposed. An SD 2.x text encoder has one layer fewer than the OpenCLIP tower it was cut from
 * (SD 2.x conditions on the penultimate layer, and every loader drops the last resblock): its last resblock is
 * written as zeros, which those loaders drop again.
 */
public final class DiffusersToLdm {
    /**
     * One tensor of the LDM file: the rows of {@code parts} one after another (one part: its bytes, with this
     * tensor's shape), its transpose when {@code transpose}, or zeros when there are no parts.
     */
    public record Planned(String name, DType dtype, long[] shape, List<Part> parts, boolean transpose) {
        public long byteSize() {
            long n = dtype.size();
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** A tensor of a component, by its diffusers key. */
    public record Part(TensorSource source, String key) {
    }

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
    private static final Pattern VAE_DOWN = Pattern.compile("encoder\\.down_blocks\\.(\\d+)\\.(resnets|downsamplers)\\.(\\d+)\\.(.+)");
    private static final Pattern VAE_UP = Pattern.compile("decoder\\.up_blocks\\.(\\d+)\\.(resnets|upsamplers)\\.(\\d+)\\.(.+)");
    private static final Pattern VAE_MID = Pattern.compile("(encoder|decoder)\\.mid_block\\.(resnets|attentions)\\.(\\d+)\\.(.+)");
    private static final Pattern QKV = Pattern.compile("text_model\\.encoder\\.layers\\.(\\d+)\\.self_attn\\.([qkv])_proj\\.(weight|bias)");
    private static final Pattern LAYER = Pattern.compile("text_model\\.encoder\\.layers\\.(\\d+)\\.(.+)");

    private DiffusersToLdm() {
    }

    /** Every tensor of the LDM file for {@code family}, from the diffusers components it has. */
    public static List<Planned> plan(LdmFamily family, Map<LdmComponent, TensorSource> components) {
        List<Planned> out = new ArrayList<>();
        components.forEach((c, source) -> {
            String prefix = family.prefix(c);
            if (prefix == null) {
                throw new UnetlensException(source.describe() + ": an " + family.label() + " checkpoint has no " + c);
            }
            switch (c) {
                case UNET -> renamed(out, prefix, source, unet(source.names()));
                case VAE -> vae(out, prefix, source);
                case TEXT_ENCODER -> {
                    if (family == LdmFamily.SD2) {
                        prefixed(out, prefix, openClip(source, true));
                    } else {
                        renamed(out, prefix, source, identity(source.names()));
                    }
                }
                case TEXT_ENCODER_2 -> prefixed(out, prefix, openClip(source, false));
            }
        });
        return out;
    }

    private static void prefixed(List<Planned> out, String prefix, List<Planned> tensors) {
        tensors.forEach(p -> out.add(new Planned(prefix + p.name(), p.dtype(), p.shape(), p.parts(), p.transpose())));
    }

    private static Map<String, String> identity(Collection<String> keys) {
        Map<String, String> m = new TreeMap<>();
        keys.forEach(k -> m.put(k, k));
        return m;
    }

    private static void renamed(List<Planned> out, String prefix, TensorSource source, Map<String, String> names) {
        for (String key : source.names()) {
            TensorInfo t = source.info(key).orElseThrow();
            out.add(new Planned(prefix + names.get(key), t.dtype(), t.shape(), List.of(new Part(source, key)), false));
        }
    }

    /** diffusers {@code UNet2DConditionModel} key → LDM {@code UNetModel} key, for every key of a U-Net. */
    public static Map<String, String> unet(Collection<String> keys) {
        int layers = count(keys, Pattern.compile("down_blocks\\.0\\.resnets\\.(\\d+)\\..*"));
        int per = layers + 1;
        Map<String, String> out = new TreeMap<>();
        for (String k : keys) {
            Matcher m;
            String ldm;
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
                String block = "up_blocks." + m.group(1) + ".attentions.";
                boolean attention = keys.stream().anyMatch(x -> x.startsWith(block));
                ldm = "output_blocks." + (Integer.parseInt(m.group(1)) * per + layers) + "." + (attention ? 2 : 1)
                        + ".conv." + m.group(2);
            } else {
                throw new UnetlensException("the U-Net key " + Messages.quote(k) + " has no LDM name");
            }
            out.put(k, ldm);
        }
        return out;
    }

    private static String resnet(String rest) {
        int dot = rest.indexOf('.');
        return RESNET.getOrDefault(rest.substring(0, dot), rest.substring(0, dot)) + rest.substring(dot);
    }

    /** diffusers {@code AutoencoderKL} key → LDM key; {@link #vaeKernel} says which weights become 1×1 kernels. */
    public static Map<String, String> vae(Collection<String> keys) {
        int levels = count(keys, Pattern.compile("encoder\\.down_blocks\\.(\\d+)\\..*"));
        Map<String, String> out = new TreeMap<>();
        for (String k : keys) {
            Matcher m;
            String ldm;
            if ((m = VAE_DOWN.matcher(k)).matches()) {
                ldm = "encoder.down." + m.group(1) + (m.group(2).equals("resnets")
                        ? ".block." + m.group(3) + "." + m.group(4).replace("conv_shortcut", "nin_shortcut")
                        : ".downsample." + m.group(4));
            } else if ((m = VAE_UP.matcher(k)).matches()) {
                int level = levels - 1 - Integer.parseInt(m.group(1));
                ldm = "decoder.up." + level + (m.group(2).equals("resnets")
                        ? ".block." + m.group(3) + "." + m.group(4).replace("conv_shortcut", "nin_shortcut")
                        : ".upsample." + m.group(4));
            } else if ((m = VAE_MID.matcher(k)).matches() && m.group(2).equals("resnets")) {
                ldm = m.group(1) + ".mid.block_" + (Integer.parseInt(m.group(3)) + 1) + "."
                        + m.group(4).replace("conv_shortcut", "nin_shortcut");
            } else if (m.matches()) {
                Matcher p = PARAM.matcher(m.group(4));
                if (!p.matches() || !VAE_ATTENTION.containsKey(p.group(1))) {
                    throw new UnetlensException("the VAE key " + Messages.quote(k) + " has no LDM name");
                }
                ldm = m.group(1) + ".mid.attn_1." + VAE_ATTENTION.get(p.group(1)) + "." + p.group(2);
            } else {
                ldm = k.replace("conv_norm_out", "norm_out");
            }
            out.put(k, ldm);
        }
        return out;
    }

    /** Whether the LDM VAE key {@code ldm} holds a 1×1 conv kernel where diffusers holds a Linear weight. */
    public static boolean vaeKernel(String ldm, long[] shape) {
        return ldm.contains(".mid.attn_1.") && ldm.endsWith(".weight") && !ldm.contains(".norm.") && shape.length == 2;
    }

    private static void vae(List<Planned> out, String prefix, TensorSource source) {
        Map<String, String> names = vae(source.names());
        for (String key : source.names()) {
            TensorInfo t = source.info(key).orElseThrow();
            String ldm = names.get(key);
            long[] shape = vaeKernel(ldm, t.shape()) ? new long[] {t.shape()[0], t.shape()[1], 1, 1} : t.shape();
            out.add(new Planned(prefix + ldm, t.dtype(), shape, List.of(new Part(source, key)), false));
        }
    }

    /**
     * A transformers CLIP text model as an OpenCLIP text tower (keys without a prefix): q/k/v rows fused into
     * {@code in_proj_*}, {@code text_projection.weight} (P, D) transposed into {@code text_projection} (D, P); with
     * {@code padLastLayer}, one more resblock of zeros (SD 2.x).
     */
    public static List<Planned> openClip(TensorSource source, boolean padLastLayer) {
        List<Planned> out = new ArrayList<>();
        Map<String, Part[]> fused = new TreeMap<>();
        Map<String, TensorInfo> fusedInfo = new TreeMap<>();
        List<Planned> layer = new ArrayList<>();
        int last = -1;
        for (String k : source.names()) {
            TensorInfo t = source.info(k).orElseThrow();
            Matcher m = QKV.matcher(k);
            if (m.matches()) {
                String key = "transformer.resblocks." + m.group(1) + ".attn.in_proj_" + m.group(3);
                fused.computeIfAbsent(key, x -> new Part[3])["qkv".indexOf(m.group(2))] = new Part(source, k);
                fusedInfo.putIfAbsent(key, t);
                last = Math.max(last, Integer.parseInt(m.group(1)));
                continue;
            }
            String ldm = openClipName(k);
            Matcher l = LAYER.matcher(k);
            if (l.matches()) {
                last = Math.max(last, Integer.parseInt(l.group(1)));
            }
            boolean transpose = ldm.equals(OpenClipKeyMap.TEXT_PROJECTION);
            long[] shape = transpose ? new long[] {t.shape()[1], t.shape()[0]} : t.shape();
            Planned p = new Planned(ldm, t.dtype(), shape, List.of(new Part(source, k)), transpose);
            out.add(p);
            layer.add(p);
        }
        for (Map.Entry<String, Part[]> e : fused.entrySet()) {
            Part[] parts = e.getValue();
            TensorInfo t = fusedInfo.get(e.getKey());
            if (parts[0] == null || parts[1] == null || parts[2] == null) {
                throw new UnetlensException(source.describe() + ": " + e.getKey() + " lacks one of q_proj, k_proj, v_proj");
            }
            long[] shape = t.shape();
            shape[0] *= 3;
            Planned p = new Planned(e.getKey(), t.dtype(), shape, List.of(parts), false);
            out.add(p);
            layer.add(p);
        }
        if (padLastLayer && last >= 0) {
            String from = "transformer.resblocks." + last + ".";
            String to = "transformer.resblocks." + (last + 1) + ".";
            for (Planned p : layer) {
                if (p.name().startsWith(from)) {
                    out.add(new Planned(to + p.name().substring(from.length()), p.dtype(), p.shape(), List.of(), false));
                }
            }
        }
        return out;
    }

    /** Streams the bytes of {@code p}: its parts one after another, the transpose of its one part, or zeros. */
    public static void writeTo(Planned p, OutputStream out) throws IOException {
        if (p.parts().isEmpty()) {
            byte[] zeros = new byte[(int) Math.min(1 << 20, p.byteSize())];
            for (long left = p.byteSize(); left > 0; left -= zeros.length) {
                out.write(zeros, 0, (int) Math.min(zeros.length, left));
            }
        } else if (p.transpose()) {
            out.write(transpose(p.parts().getFirst(), p.dtype().size()));
        } else {
            for (Part part : p.parts()) {
                Segments.copy(part.source().data(part.key()), out);
            }
        }
    }

    /** The transpose of a matrix [R, K] → [K, R] (a text projection: a few MB). */
    private static byte[] transpose(Part part, int size) {
        TensorInfo t = part.source().info(part.key()).orElseThrow();
        MemorySegment src = part.source().data(part.key());
        long rows = t.shape()[0];
        long cols = t.shape()[1];
        byte[] out = new byte[Math.toIntExact(t.byteSize())];
        MemorySegment dst = MemorySegment.ofArray(out);
        for (long i = 0; i < rows; i++) {
            for (long j = 0; j < cols; j++) {
                MemorySegment.copy(src, (i * cols + j) * size, dst, (j * rows + i) * size, size);
            }
        }
        return out;
    }

    private static String openClipName(String k) {
        return switch (k) {
            case "text_model.embeddings.token_embedding.weight" -> "token_embedding.weight";
            case "text_model.embeddings.position_embedding.weight" -> "positional_embedding";
            case "text_model.final_layer_norm.weight" -> "ln_final.weight";
            case "text_model.final_layer_norm.bias" -> "ln_final.bias";
            case "text_projection.weight" -> OpenClipKeyMap.TEXT_PROJECTION;
            default -> {
                Matcher l = LAYER.matcher(k);
                if (!l.matches()) {
                    throw new UnetlensException("the text-encoder key " + Messages.quote(k) + " has no OpenCLIP name");
                }
                yield "transformer.resblocks." + l.group(1) + "." + l.group(2).replace("layer_norm1", "ln_1")
                        .replace("layer_norm2", "ln_2").replace("mlp.fc1", "mlp.c_fc").replace("mlp.fc2", "mlp.c_proj")
                        .replace("self_attn.out_proj", "attn.out_proj");
            }
        };
    }

    private static int count(Collection<String> keys, Pattern p) {
        TreeSet<String> seen = new TreeSet<>();
        for (String k : keys) {
            Matcher m = p.matcher(k);
            if (m.matches()) {
                seen.add(m.group(1));
            }
        }
        return seen.size();
    }
}
