package dev.unetlens.io.ldm;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The key sets with shapes of LDM checkpoints, built from architecture numbers the way LDM's / SGM's modules create
 * their parameters ({@code openaimodel.UNetModel}, {@code model.Encoder/Decoder}, transformers CLIP,
 * OpenCLIP's text tower). Checked against real files: the golden tiny-sd15 single file (made by diffusers'
 * conversion script) and the inverse conversion of the golden tiny-sdxl folder.
 */
final class LdmKeySets {
    private LdmKeySets() {
    }

    /**
     * An LDM {@code UNetModel}.
     *
     * @param depth       transformer blocks per level, 0 for a level without attention
     * @param middleDepth transformer blocks of the middle block
     * @param linear      proj_in/proj_out as Linear ({@code use_linear_in_transformer}) rather than 1×1 convs
     * @param admIn       {@code adm_in_channels} of SDXL's {@code label_emb}, 0 for none
     */
    record Unet(int in, int out, int modelChannels, int[] mult, int resBlocks, int[] depth, int middleDepth,
                int context, boolean linear, int admIn) {
    }

    /** An LDM {@code AutoencoderKL} ({@code ddconfig}: ch, ch_mult, num_res_blocks, z_channels). */
    record Vae(int in, int out, int ch, int[] mult, int resBlocks, int z) {
    }

    /** A CLIP text tower: width D, layers, MLP width I, vocabulary V, positions T, projection P (0: none). */
    record Text(int hidden, int layers, int intermediate, int vocab, int positions, int projection) {
    }

    static Map<String, long[]> unet(Unet s) {
        Map<String, long[]> m = new LinkedHashMap<>();
        int temb = 4 * s.modelChannels();
        linear(m, "time_embed.0", temb, s.modelChannels());
        linear(m, "time_embed.2", temb, temb);
        if (s.admIn() > 0) {
            linear(m, "label_emb.0.0", temb, s.admIn());
            linear(m, "label_emb.0.2", temb, temb);
        }
        conv(m, "input_blocks.0.0", s.modelChannels(), s.in(), 3);
        Deque<Integer> skips = new ArrayDeque<>();
        skips.push(s.modelChannels());
        int ch = s.modelChannels();
        int idx = 1;
        int levels = s.mult().length;
        for (int i = 0; i < levels; i++) {
            for (int j = 0; j < s.resBlocks(); j++) {
                int cout = s.modelChannels() * s.mult()[i];
                resblock(m, "input_blocks." + idx + ".0", ch, cout, temb);
                ch = cout;
                if (s.depth()[i] > 0) {
                    spatialTransformer(m, "input_blocks." + idx + ".1", ch, s.depth()[i], s.context(), s.linear());
                }
                skips.push(ch);
                idx++;
            }
            if (i < levels - 1) {
                conv(m, "input_blocks." + idx + ".0.op", ch, ch, 3);
                skips.push(ch);
                idx++;
            }
        }
        resblock(m, "middle_block.0", ch, ch, temb);
        spatialTransformer(m, "middle_block.1", ch, s.middleDepth(), s.context(), s.linear());
        resblock(m, "middle_block.2", ch, ch, temb);
        idx = 0;
        for (int i = levels - 1; i >= 0; i--) {
            for (int j = 0; j <= s.resBlocks(); j++) {
                int cout = s.modelChannels() * s.mult()[i];
                resblock(m, "output_blocks." + idx + ".0", ch + skips.pop(), cout, temb);
                ch = cout;
                boolean attention = s.depth()[i] > 0;
                if (attention) {
                    spatialTransformer(m, "output_blocks." + idx + ".1", ch, s.depth()[i], s.context(), s.linear());
                }
                if (i > 0 && j == s.resBlocks()) {
                    conv(m, "output_blocks." + idx + "." + (attention ? 2 : 1) + ".conv", ch, ch, 3);
                }
                idx++;
            }
        }
        norm(m, "out.0", ch);
        conv(m, "out.2", s.out(), ch, 3);
        return m;
    }

    private static void resblock(Map<String, long[]> m, String p, int cin, int cout, int temb) {
        norm(m, p + ".in_layers.0", cin);
        conv(m, p + ".in_layers.2", cout, cin, 3);
        linear(m, p + ".emb_layers.1", cout, temb);
        norm(m, p + ".out_layers.0", cout);
        conv(m, p + ".out_layers.3", cout, cout, 3);
        if (cin != cout) {
            conv(m, p + ".skip_connection", cout, cin, 1);
        }
    }

    private static void spatialTransformer(Map<String, long[]> m, String p, int c, int depth, int context,
                                           boolean linear) {
        norm(m, p + ".norm", c);
        projection(m, p + ".proj_in", c, linear);
        for (int k = 0; k < depth; k++) {
            String b = p + ".transformer_blocks." + k;
            for (String attn : new String[] {".attn1", ".attn2"}) {
                int kv = attn.equals(".attn1") ? c : context;
                m.put(b + attn + ".to_q.weight", new long[] {c, c});
                m.put(b + attn + ".to_k.weight", new long[] {c, kv});
                m.put(b + attn + ".to_v.weight", new long[] {c, kv});
                linear(m, b + attn + ".to_out.0", c, c);
            }
            linear(m, b + ".ff.net.0.proj", 8 * c, c);   // GEGLU: two halves of 4c
            linear(m, b + ".ff.net.2", c, 4 * c);
            norm(m, b + ".norm1", c);
            norm(m, b + ".norm2", c);
            norm(m, b + ".norm3", c);
        }
        projection(m, p + ".proj_out", c, linear);
    }

    private static void projection(Map<String, long[]> m, String p, int c, boolean linear) {
        if (linear) {
            linear(m, p, c, c);
        } else {
            conv(m, p, c, c, 1);
        }
    }

    static Map<String, long[]> vae(Vae s) {
        Map<String, long[]> m = new LinkedHashMap<>();
        int levels = s.mult().length;
        conv(m, "encoder.conv_in", s.ch(), s.in(), 3);
        int ch = s.ch();
        for (int i = 0; i < levels; i++) {
            int cout = s.ch() * s.mult()[i];
            for (int j = 0; j < s.resBlocks(); j++) {
                vaeResnet(m, "encoder.down." + i + ".block." + j, ch, cout);
                ch = cout;
            }
            if (i < levels - 1) {
                conv(m, "encoder.down." + i + ".downsample.conv", ch, ch, 3);
            }
        }
        vaeMid(m, "encoder.mid", ch);
        norm(m, "encoder.norm_out", ch);
        conv(m, "encoder.conv_out", 2 * s.z(), ch, 3);
        conv(m, "quant_conv", 2 * s.z(), 2 * s.z(), 1);
        conv(m, "post_quant_conv", s.z(), s.z(), 1);
        ch = s.ch() * s.mult()[levels - 1];
        conv(m, "decoder.conv_in", ch, s.z(), 3);
        vaeMid(m, "decoder.mid", ch);
        for (int i = levels - 1; i >= 0; i--) {
            int cout = s.ch() * s.mult()[i];
            for (int j = 0; j <= s.resBlocks(); j++) {
                vaeResnet(m, "decoder.up." + i + ".block." + j, ch, cout);
                ch = cout;
            }
            if (i > 0) {
                conv(m, "decoder.up." + i + ".upsample.conv", ch, ch, 3);
            }
        }
        norm(m, "decoder.norm_out", ch);
        conv(m, "decoder.conv_out", s.out(), ch, 3);
        return m;
    }

    private static void vaeResnet(Map<String, long[]> m, String p, int cin, int cout) {
        norm(m, p + ".norm1", cin);
        conv(m, p + ".conv1", cout, cin, 3);
        norm(m, p + ".norm2", cout);
        conv(m, p + ".conv2", cout, cout, 3);
        if (cin != cout) {
            conv(m, p + ".nin_shortcut", cout, cin, 1);
        }
    }

    private static void vaeMid(Map<String, long[]> m, String p, int c) {
        vaeResnet(m, p + ".block_1", c, c);
        norm(m, p + ".attn_1.norm", c);
        for (String n : new String[] {"q", "k", "v", "proj_out"}) {
            conv(m, p + ".attn_1." + n, c, c, 1);
        }
        vaeResnet(m, p + ".block_2", c, c);
    }

    /** transformers {@code CLIPTextModel} keys (what LDM's FrozenCLIPEmbedder stores under {@code transformer.}). */
    static Map<String, long[]> clip(Text s) {
        Map<String, long[]> m = new LinkedHashMap<>();
        int d = s.hidden();
        m.put("text_model.embeddings.token_embedding.weight", new long[] {s.vocab(), d});
        m.put("text_model.embeddings.position_embedding.weight", new long[] {s.positions(), d});
        for (int n = 0; n < s.layers(); n++) {
            String p = "text_model.encoder.layers." + n;
            for (String proj : new String[] {"k_proj", "v_proj", "q_proj", "out_proj"}) {
                linear(m, p + ".self_attn." + proj, d, d);
            }
            norm(m, p + ".layer_norm1", d);
            linear(m, p + ".mlp.fc1", s.intermediate(), d);
            linear(m, p + ".mlp.fc2", d, s.intermediate());
            norm(m, p + ".layer_norm2", d);
        }
        norm(m, "text_model.final_layer_norm", d);
        return m;
    }

    /** OpenCLIP's text tower keys ({@code open_clip.CLIP} without {@code visual}). */
    static Map<String, long[]> openClip(Text s) {
        Map<String, long[]> m = new LinkedHashMap<>();
        int d = s.hidden();
        m.put("positional_embedding", new long[] {s.positions(), d});
        m.put("text_projection", new long[] {d, s.projection()});
        m.put("logit_scale", new long[] {});
        m.put("token_embedding.weight", new long[] {s.vocab(), d});
        for (int n = 0; n < s.layers(); n++) {
            String p = "transformer.resblocks." + n;
            norm(m, p + ".ln_1", d);
            m.put(p + ".attn.in_proj_weight", new long[] {3L * d, d});
            m.put(p + ".attn.in_proj_bias", new long[] {3L * d});
            linear(m, p + ".attn.out_proj", d, d);
            norm(m, p + ".ln_2", d);
            linear(m, p + ".mlp.c_fc", s.intermediate(), d);
            linear(m, p + ".mlp.c_proj", d, s.intermediate());
        }
        norm(m, "ln_final", d);
        return m;
    }

    /** Adds {@code prefix} to every key of {@code part} into {@code into}; returns {@code into}. */
    static Map<String, long[]> prefixed(Map<String, long[]> into, String prefix, Map<String, long[]> part) {
        part.forEach((k, v) -> into.put(prefix + k, v));
        return into;
    }

    private static void linear(Map<String, long[]> m, String p, int out, int in) {
        m.put(p + ".weight", new long[] {out, in});
        m.put(p + ".bias", new long[] {out});
    }

    private static void conv(Map<String, long[]> m, String p, int out, int in, int k) {
        m.put(p + ".weight", new long[] {out, in, k, k});
        m.put(p + ".bias", new long[] {out});
    }

    private static void norm(Map<String, long[]> m, String p, int c) {
        m.put(p + ".weight", new long[] {c});
        m.put(p + ".bias", new long[] {c});
    }
}
