package dev.unetlens.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.UnetlensException;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.golden.ModelCopy;
import dev.unetlens.io.DType;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.SafetensorsWriter;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;
import dev.unetlens.io.ldm.DiffusersToLdm;
import dev.unetlens.io.ldm.LdmComponent;
import dev.unetlens.model.unet.UNetInput;
import dev.unetlens.pipeline.StableDiffusion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * LoRA files for the golden tiny-sd15 and tiny-sdxl, written by the test in each layout, merged by unetlens and
 * checked against an explicit merge computed here in float64 from the formulas (diffusers' and A1111's
 * W + scale · up · down · alpha / rank; LoCon's CP core; LoHa's Hadamard product with and without Tucker cores; a
 * full difference): a linear layer, a 1×1 and a 3×3 convolution, both text-encoder layouts, SDXL's LDM-named kohya
 * modules. Then end to end: a model loaded with the LoRA computes what the model with explicitly merged weights
 * computes, and scale 0 changes no bit.
 */
class LoraMergeTest {
    private static final double ATOL = 1e-6;
    private static final double RTOL = 1e-5;
    private static final String TO_Q = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight";
    private static final String PROJ_IN = "down_blocks.0.attentions.0.proj_in.weight";
    private static final String CONV1 = "down_blocks.0.resnets.0.conv1.weight";
    private static final String CONV2 = "up_blocks.1.resnets.0.conv2.weight";
    private static final String FF = "mid_block.attentions.0.transformer_blocks.0.ff.net.2.weight";
    private static final String TIME_BIAS = "time_embedding.linear_1.bias";
    private static final String Q_PROJ = "text_model.encoder.layers.0.self_attn.q_proj.weight";

    @TempDir
    Path tmp;

    /** A tensor the test writes into a LoRA file. */
    record Part(String key, long[] shape, double[] values, DType dtype) {
    }

    private static Path golden(String rel) {
        return Golden.get().path(rel);
    }

    private static double[] randn(long n, long seed, double std) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = std * r.nextGaussian();
        }
        return v;
    }

    private static long count(long... s) {
        long n = 1;
        for (long d : s) {
            n *= d;
        }
        return n;
    }

    /** Values as stored (rounded to the part's dtype), back in double. */
    private static double[] stored(Part p) {
        double[] out = new double[p.values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = p.dtype == DType.F16 ? Float.float16ToFloat(Float.floatToFloat16((float) p.values[i])) : (float) p.values[i];
        }
        return out;
    }

    private static Path write(Path file, List<Part> parts, Map<String, String> metadata) {
        SafetensorsWriter w = new SafetensorsWriter();
        if (metadata != null) {
            w.metadata(metadata);
        }
        for (Part p : parts) {
            ByteBuffer b = ByteBuffer.allocate(p.values.length * p.dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
            for (double v : p.values) {
                if (p.dtype == DType.F16) {
                    b.putShort(Float.floatToFloat16((float) v));
                } else {
                    b.putFloat((float) v);
                }
            }
            w.add(p.key, p.dtype, p.shape, b.flip());
        }
        w.write(file);
        return file;
    }

    private static float[] floats(TensorSource s, String name) {
        TensorInfo t = s.info(name).orElseThrow();
        MemorySegment d = s.data(name);
        float[] out = new float[(int) t.elementCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.dtype() == DType.F32 ? d.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * i)
                    : Float.float16ToFloat(d.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2L * i));
        }
        return out;
    }

    private static long[] shape(TensorSource s, String name) {
        return s.info(name).orElseThrow().shape();
    }

    /** ΔW[o, j] = Σ_k up[o, k] down[k, j] (down flattened past its first dimension). */
    private static double[] product(double[] up, double[] down, long out, long rank) {
        long cols = down.length / rank;
        double[] d = new double[(int) (out * cols)];
        for (int o = 0; o < out; o++) {
            for (int k = 0; k < rank; k++) {
                for (int j = 0; j < cols; j++) {
                    d[(int) (o * cols + j)] += up[(int) (o * rank + k)] * down[(int) (k * cols + j)];
                }
            }
        }
        return d;
    }

    /** Σ_{n, m} core[n, m, k, l] a[n, o] b[m, i] (aFirst: a is [n, o]; else a is [o, n], b is [m, i]). */
    private static double[] cp(double[] core, double[] a, double[] b, long r, long out, long in, long kh, long kw,
                               boolean aTransposed) {
        double[] d = new double[(int) (out * in * kh * kw)];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                for (int k = 0; k < kh * kw; k++) {
                    double s = 0;
                    for (int n = 0; n < r; n++) {
                        double an = aTransposed ? a[(int) (n * out + o)] : a[(int) (o * r + n)];
                        for (int m = 0; m < r; m++) {
                            s += core[(int) ((n * r + m) * kh * kw + k)] * an * b[(int) (m * in + i)];
                        }
                    }
                    d[(int) ((o * in + i) * kh * kw + k)] = s;
                }
            }
        }
        return d;
    }

    /** The LoRA modules of the test, each with the difference it must make. */
    private static final class Plan {
        final List<Part> parts = new ArrayList<>();
        final Map<String, double[]> deltas = new LinkedHashMap<>();
        final Map<String, String> component = new LinkedHashMap<>();

        void add(String target, String comp, double[] delta) {
            deltas.merge(target, delta, (a, b) -> {
                double[] s = a.clone();
                for (int i = 0; i < s.length; i++) {
                    s[i] += b[i];
                }
                return s;
            });
            component.put(target, comp);
        }
    }

    /** kohya names: {@code lora_unet_} + the flattened diffusers (or LDM) path. */
    private static String kohya(String prefix, String weightKey) {
        return prefix + weightKey.substring(0, weightKey.length() - ".weight".length()).replace('.', '_');
    }

    private static void lora(Plan p, TensorSource base, String module, String target, String comp, long rank,
                             double alpha, boolean conv, DType dtype, String[] names, long seed) {
        long[] w = shape(base, target);
        long in = count(w) / w[0];
        long[] downShape = conv ? new long[] {rank, w[1], w[2], w[3]} : new long[] {rank, in};
        long[] upShape = conv ? new long[] {w[0], rank, 1, 1} : new long[] {w[0], rank};
        Part down = new Part(module + names[0], downShape, randn(count(downShape), seed, 0.3), dtype);
        Part up = new Part(module + names[1], upShape, randn(count(upShape), seed + 1, 0.3), dtype);
        p.parts.add(down);
        p.parts.add(up);
        double scale = 1;
        if (!Double.isNaN(alpha)) {
            p.parts.add(new Part(module + ".alpha", new long[] {}, new double[] {alpha}, DType.F32));
            scale = alpha / rank;
        }
        double[] d = product(stored(up), stored(down), w[0], rank);
        for (int i = 0; i < d.length; i++) {
            d[i] *= scale;
        }
        p.add(target, comp, d);
    }

    /** Every kind of module on tiny-sd15, kohya names; the text encoder in kohya's and PEFT's names. */
    private Plan plan(TensorSource unet, TensorSource te) {
        Plan p = new Plan();
        String[] kohyaParts = {".lora_down.weight", ".lora_up.weight"};
        lora(p, unet, kohya("lora_unet_", TO_Q), TO_Q, "unet", 4, 2.0, false, DType.F16, kohyaParts, 1);
        lora(p, unet, kohya("lora_unet_", PROJ_IN), PROJ_IN, "unet", 2, 1.0, false, DType.F32, kohyaParts, 3);
        lora(p, unet, kohya("lora_unet_", CONV1), CONV1, "unet", 3, 1.5, true, DType.F16, kohyaParts, 5);
        lora(p, te, kohya("lora_te_", Q_PROJ), Q_PROJ, "text_encoder", 2, 4.0, false, DType.F16, kohyaParts, 7);
        // LoCon with a CP core on a 3×3 conv: up [O, r, 1, 1], mid [r, r, 3, 3], down [r, I, 1, 1]
        long[] w = shape(unet, CONV2);
        long r = 2;
        String m = kohya("lora_unet_", CONV2);
        Part up = new Part(m + ".lora_up.weight", new long[] {w[0], r, 1, 1}, randn(w[0] * r, 11, 0.3), DType.F32);
        Part mid = new Part(m + ".lora_mid.weight", new long[] {r, r, w[2], w[3]}, randn(r * r * w[2] * w[3], 12, 0.3), DType.F32);
        Part down = new Part(m + ".lora_down.weight", new long[] {r, w[1], 1, 1}, randn(r * w[1], 13, 0.3), DType.F32);
        p.parts.addAll(List.of(up, mid, down, new Part(m + ".alpha", new long[] {1}, new double[] {1}, DType.F32)));
        double[] d = cp(stored(mid), stored(up), stored(down), r, w[0], w[1], w[2], w[3], false);
        for (int i = 0; i < d.length; i++) {
            d[i] *= 1.0 / r;
        }
        p.add(CONV2, "unet", d);
        // LoHa on a linear layer: (w1a · w1b) ⊙ (w2a · w2b) · alpha / rank
        long[] f = shape(unet, FF);
        String h = kohya("lora_unet_", FF);
        long rk = 3;
        Part w1a = new Part(h + ".hada_w1_a", new long[] {f[0], rk}, randn(f[0] * rk, 21, 0.5), DType.F32);
        Part w1b = new Part(h + ".hada_w1_b", new long[] {rk, f[1]}, randn(rk * f[1], 22, 0.5), DType.F32);
        Part w2a = new Part(h + ".hada_w2_a", new long[] {f[0], rk}, randn(f[0] * rk, 23, 0.5), DType.F32);
        Part w2b = new Part(h + ".hada_w2_b", new long[] {rk, f[1]}, randn(rk * f[1], 24, 0.5), DType.F32);
        p.parts.addAll(List.of(w1a, w1b, w2a, w2b, new Part(h + ".alpha", new long[] {}, new double[] {6}, DType.F32)));
        double[] u1 = product(stored(w1a), stored(w1b), f[0], rk);
        double[] u2 = product(stored(w2a), stored(w2b), f[0], rk);
        for (int i = 0; i < u1.length; i++) {
            u1[i] *= u2[i] * 6.0 / rk;
        }
        p.add(FF, "unet", u1);
        // a full difference of a bias
        String b = kohya("lora_unet_", TIME_BIAS.replace(".bias", ".weight"));
        long[] tw = shape(unet, TIME_BIAS.replace(".bias", ".weight"));
        Part diff = new Part(b + ".diff", tw, randn(count(tw), 31, 0.1), DType.F32);
        Part diffB = new Part(b + ".diff_b", shape(unet, TIME_BIAS), randn(count(shape(unet, TIME_BIAS)), 32, 0.1), DType.F32);
        p.parts.addAll(List.of(diff, diffB));
        p.add(TIME_BIAS.replace(".bias", ".weight"), "unet", stored(diff));
        p.add(TIME_BIAS, "unet", stored(diffB));
        return p;
    }

    private static void assertMerged(TensorSource merged, TensorSource base, String target, double[] delta, double scale) {
        float[] got = floats(merged, target);
        float[] w = floats(base, target);
        assertThat(merged.info(target).orElseThrow().dtype()).isEqualTo(DType.F32);
        for (int i = 0; i < got.length; i++) {
            double want = w[i] + scale * delta[i];
            assertThat(Math.abs(got[i] - want)).as(target + "[" + i + "]").isLessThanOrEqualTo(ATOL + RTOL * Math.abs(want));
        }
    }

    /**
     * Merges {@code file} at {@code scale} into each component's weights ({@code sources} by folder name: unet,
     * text_encoder, text_encoder_2) and checks every difference of the plan; returns what was applied.
     */
    private static Loras.Applied checkMerge(Path file, double scale, Plan p, Map<String, TensorSource> sources) {
        try (Loras loras = Loras.open(List.of(new LoraSpec(file, scale)))) {
            Map<String, TensorSource> merged = new LinkedHashMap<>();
            for (LdmComponent c : LdmComponent.values()) {
                if (sources.containsKey(c.folder())) {
                    merged.put(c.folder(), loras.apply(c, sources.get(c.folder())));
                }
            }
            loras.finish();
            p.deltas.forEach((target, d) -> {
                String comp = p.component.get(target);
                assertMerged(merged.get(comp), sources.get(comp), target, d, scale);
            });
            return loras.applied().getFirst();
        }
    }

    private static TensorSource unet() {
        return SafetensorsFile.open(golden("models/tiny-sd15/unet/diffusion_pytorch_model.safetensors"));
    }

    private static TensorSource textEncoder() {
        return SafetensorsFile.open(golden("models/tiny-sd15/text_encoder/model.safetensors"));
    }

    @Test
    void everyKindMergesAsTheFormulaSays() {
        try (TensorSource unet = unet(); TensorSource te = textEncoder()) {
            Plan p = plan(unet, te);
            Path file = write(tmp.resolve("all-kinds.safetensors"), p.parts, null);
            double scale = 0.7;
            try (Loras loras = Loras.open(List.of(new LoraSpec(file, scale)))) {
                TensorSource mu = loras.apply(LdmComponent.UNET, unet);
                TensorSource mt = loras.apply(LdmComponent.TEXT_ENCODER, te);
                loras.finish();
                p.deltas.forEach((target, d) -> assertMerged(p.component.get(target).equals("unet") ? mu : mt,
                        p.component.get(target).equals("unet") ? unet : te, target, d, scale));
                String untouched = "conv_in.weight";
                assertThat(mu.data(untouched).mismatch(unet.data(untouched))).isEqualTo(-1L);
                assertThat(mu.info(untouched).orElseThrow().dtype()).isEqualTo(DType.F32);
                Loras.Applied a = loras.applied().getFirst();
                assertThat(a.format()).isEqualTo("kohya (A1111)");
                assertThat(a.modules()).containsEntry("unet", 6).containsEntry("text_encoder", 1);
                assertThat(a.kinds()).containsEntry("lora", 5).containsEntry("loha", 1).containsEntry("full", 1);
            }
        }
    }

    /** The same LoRA under PEFT's, diffusers' attention-processor and text-encoder names merges the same. */
    @Test
    void diffusersAndPeftNamesMergeTheSame() {
        try (TensorSource unet = unet(); TensorSource te = textEncoder()) {
            Plan p = new Plan();
            lora(p, unet, "unet." + TO_Q.replace(".weight", ""), TO_Q, "unet", 4, Double.NaN, false, DType.F16,
                    new String[] {".lora_A.weight", ".lora_B.weight"}, 1);
            lora(p, unet, "unet." + PROJ_IN.replace(".weight", ""), PROJ_IN, "unet", 2, Double.NaN, false, DType.F32,
                    new String[] {".lora.down.weight", ".lora.up.weight"}, 3);
            String toK = TO_Q.replace("to_q", "to_k");
            lora(p, unet, toK.replace(".to_k.weight", ".processor.to_k_lora"), toK, "unet", 2, Double.NaN, false,
                    DType.F32, new String[] {".down.weight", ".up.weight"}, 4);
            String toOut = TO_Q.replace("to_q", "to_out.0");
            lora(p, unet, "unet." + toOut.replace(".to_out.0.weight", ".processor.to_out_lora"), toOut, "unet", 2,
                    Double.NaN, false, DType.F32, new String[] {".down.weight", ".up.weight"}, 6);
            lora(p, te, "text_encoder." + Q_PROJ.replace(".q_proj.weight", ".q_proj.lora_linear_layer"), Q_PROJ,
                    "text_encoder", 2, Double.NaN, false, DType.F16, new String[] {".down.weight", ".up.weight"}, 7);
            Path file = write(tmp.resolve("peft.safetensors"), p.parts, Map.of("format", "pt"));
            assertThat(checkMerge(file, 1, p, Map.of("unet", unet, "text_encoder", te)).format())
                    .isEqualTo("diffusers/PEFT");
        }
    }

    /**
     * LyCORIS LoKr: ΔW = (w1 ⊗ w2) · alpha / rank, on a linear layer (w1 whole, w2 = w2_a · w2_b) and a 3×3
     * convolution (w2 a Tucker product of lokr_t2 with lokr_w2_a and lokr_w2_b), in kohya names.
     */
    @Test
    void lokrMergesTheKroneckerProduct() {
        try (TensorSource unet = unet()) {
            Plan p = new Plan();
            String toV = TO_Q.replace("to_q", "to_v");
            String conv = CONV1.replace("conv1", "conv2");
            long[] lw = shape(unet, toV);
            long[] cw = shape(unet, conv);
            lokr(p, kohya("lora_unet_", toV), toV, lw, false, 3, 4.0, 41);
            lokr(p, kohya("lora_unet_", conv), conv, cw, true, 2, 1.0, 51);
            Path file = write(tmp.resolve("lokr.safetensors"), p.parts, null);
            assertThat(checkMerge(file, 0.8, p, Map.of("unet", unet)).kinds()).containsEntry("lokr", 2);
        }
    }

    /** The smallest divisor of {@code n} above 1 (n itself if prime, 1 if n is 1). */
    private static long divisor(long n) {
        for (long d = 2; d <= n; d++) {
            if (n % d == 0) {
                return d;
            }
        }
        return 1;
    }

    /** A LoKr module: w1 [a, b] whole, w2 [c, d(, kh, kw)] from w2_a · w2_b or, for a conv, the Tucker core. */
    private static void lokr(Plan p, String module, String target, long[] w, boolean tucker, long r, double alpha,
                             long seed) {
        long a = divisor(w[0]);
        long b = divisor(w[1]);
        long c = w[0] / a;
        long d = w[1] / b;
        long k = w.length == 4 ? w[2] * w[3] : 1;
        Part w1 = new Part(module + ".lokr_w1", new long[] {a, b}, randn(a * b, seed, 0.5), DType.F16);
        p.parts.add(w1);
        p.parts.add(new Part(module + ".alpha", new long[] {}, new double[] {alpha}, DType.F32));
        double[] w2;
        if (tucker) {
            Part t2 = new Part(module + ".lokr_t2", new long[] {r, r, w[2], w[3]}, randn(r * r * k, seed + 1, 0.5), DType.F32);
            Part wa = new Part(module + ".lokr_w2_a", new long[] {r, c}, randn(r * c, seed + 2, 0.5), DType.F32);
            Part wb = new Part(module + ".lokr_w2_b", new long[] {r, d}, randn(r * d, seed + 3, 0.5), DType.F32);
            p.parts.addAll(List.of(t2, wa, wb));
            w2 = cp(stored(t2), stored(wa), stored(wb), r, c, d, w[2], w[3], true);
        } else {
            Part wa = new Part(module + ".lokr_w2_a", new long[] {c, r}, randn(c * r, seed + 2, 0.5), DType.F16);
            Part wb = new Part(module + ".lokr_w2_b", new long[] {r, d * k}, randn(r * d * k, seed + 3, 0.5), DType.F16);
            p.parts.addAll(List.of(wa, wb));
            w2 = product(stored(wa), stored(wb), c, r);
        }
        double[] v1 = stored(w1);
        double[] delta = new double[(int) (w[0] * w[1] * k)];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                for (int q = 0; q < c; q++) {
                    for (int u = 0; u < d; u++) {
                        for (int x = 0; x < k; x++) {
                            long row = i * c + q;
                            long col = j * d + u;
                            delta[(int) ((row * w[1] + col) * k + x)] = v1[(int) (i * b + j)]
                                    * w2[(int) ((q * d + u) * k + x)] * alpha / r;
                        }
                    }
                }
            }
        }
        p.add(target, "unet", delta);
    }

    /**
     * diffusers (0.34+) writes PEFT's LoraConfig into the metadata {@code lora_adapter_metadata}: each module is
     * scaled by lora_alpha / r, alpha_pattern overriding the alpha of matching modules, rsLoRA by alpha / √r.
     */
    @Test
    void peftMetadataGivesTheAlphas() {
        try (TensorSource unet = unet(); TensorSource te = textEncoder()) {
            Plan p = new Plan();
            String[] names = {".lora_A.weight", ".lora_B.weight"};
            String toK = TO_Q.replace("to_q", "to_k");
            lora(p, unet, "unet." + TO_Q.replace(".weight", ""), TO_Q, "unet", 4, Double.NaN, false, DType.F32, names, 1);
            lora(p, unet, "unet." + toK.replace(".weight", ""), toK, "unet", 4, Double.NaN, false, DType.F32, names, 2);
            lora(p, te, "text_encoder." + Q_PROJ.replace(".weight", ""), Q_PROJ, "text_encoder", 4, Double.NaN, false,
                    DType.F32, names, 3);
            scale(p.deltas.get(TO_Q), 8.0 / 4);
            scale(p.deltas.get(toK), 2.0 / 4);
            scale(p.deltas.get(Q_PROJ), 6.0 / Math.sqrt(4));
            String config = "{\"unet.r\": 4, \"unet.lora_alpha\": 8, \"unet.alpha_pattern\": {\"attn1.to_k\": 2},"
                    + " \"unet.target_modules\": [\"to_q\", \"to_k\"], \"text_encoder.r\": 4,"
                    + " \"text_encoder.lora_alpha\": 6, \"text_encoder.use_rslora\": true}";
            Path file = write(tmp.resolve("peft-alpha.safetensors"), p.parts,
                    Map.of("format", "pt", PeftAlphas.METADATA_KEY, config));
            checkMerge(file, 1, p, Map.of("unet", unet, "text_encoder", te));
            Path bad = write(tmp.resolve("peft-bad.safetensors"), p.parts,
                    Map.of(PeftAlphas.METADATA_KEY, "{\"unet.lora_alpha\": \"eight\"}"));
            assertThatThrownBy(() -> {
                try (Loras l = Loras.open(List.of(new LoraSpec(bad, 1)))) {
                    l.apply(LdmComponent.UNET, unet).data(TO_Q);
                }
            }).hasMessage(bad + ": unet.lora_alpha in the metadata 'lora_adapter_metadata' is \"eight\", not a finite"
                    + " number");
        }
    }

    private static void scale(double[] v, double by) {
        for (int i = 0; i < v.length; i++) {
            v[i] *= by;
        }
    }

    /** SDXL's kohya LoRAs name LDM modules ({@code lora_unet_input_blocks_4_1_…}) and both text encoders. */
    @Test
    void sdxlLdmNamesAndBothTextEncoders() {
        String model = Golden.get().models().stream().filter(m -> m.contains("xl")).findFirst().orElseThrow();
        Path dir = golden("models/" + model);
        try (TensorSource unet = SafetensorsFile.open(dir.resolve("unet/diffusion_pytorch_model.safetensors"));
             TensorSource te2 = SafetensorsFile.open(dir.resolve("text_encoder_2/model.safetensors"))) {
            Map<String, String> ldm = DiffusersToLdm.unet(unet.names());
            String target = unet.names().stream().filter(k -> k.endsWith("attn2.to_v.weight")).findFirst().orElseThrow();
            Plan p = new Plan();
            lora(p, unet, kohya("lora_unet_", ldm.get(target)), target, "unet", 2, 1, false, DType.F16,
                    new String[] {".lora_down.weight", ".lora_up.weight"}, 1);
            String q = te2.names().stream().filter(k -> k.endsWith("self_attn.q_proj.weight")).findFirst().orElseThrow();
            lora(p, te2, kohya("lora_te2_", q), q, "text_encoder_2", 2, 1, false, DType.F16,
                    new String[] {".lora_down.weight", ".lora_up.weight"}, 2);
            Path file = write(tmp.resolve("xl.safetensors"), p.parts, null);
            checkMerge(file, 1, p, Map.of("unet", unet, "text_encoder_2", te2));
        }
    }

    /**
     * A model loaded with {@code --lora} computes what the model whose weights were merged explicitly (by this test,
     * in float64, rounded to float32) computes; at scale 0 nothing changes.
     */
    @Test
    void aModelWithTheLoraComputesWhatTheMergedModelComputes() throws IOException {
        Path copy = ModelCopy.of("tiny-sd15", tmp.resolve("merged"));
        Path file;
        try (TensorSource unet = unet(); TensorSource te = textEncoder()) {
            Plan p = plan(unet, te);
            file = write(tmp.resolve("style.safetensors"), p.parts, null);
            mergedCopy(copy, "unet/diffusion_pytorch_model.safetensors", unet, p, "unet", 0.5);
            mergedCopy(copy, "text_encoder/model.safetensors", te, p, "text_encoder", 0.5);
        }
        Path base = golden("models/tiny-sd15");
        String in = "cases/tiny-sd15/unet/";
        try (NDManager m = NDManager.newBaseManager();
             StableDiffusion withLora = StableDiffusion.load(base, options(new LoraSpec(file, 0.5)));
             StableDiffusion merged = StableDiffusion.load(copy, StableDiffusion.Options.DEFAULT);
             StableDiffusion zero = StableDiffusion.load(base, options(new LoraSpec(file, 0)));
             StableDiffusion plain = StableDiffusion.load(base, StableDiffusion.Options.DEFAULT)) {
            UNetInput x = UNetInput.of(GoldenModels.load(m, in + "sample.npy"), 500,
                    GoldenModels.load(m, in + "encoder_hidden_states.npy"));
            NDArray a = withLora.unet().forward(x);
            NDArray b = merged.unet().forward(x);
            assertThat(a.sub(b).abs().max().getFloat()).isLessThan(1e-4f);
            assertThat(a.sub(plain.unet().forward(x)).abs().max().getFloat()).as("the LoRA changes the output")
                    .isGreaterThan(1e-3f);
            assertThat(zero.unet().forward(x).toFloatArray()).isEqualTo(plain.unet().forward(x).toFloatArray());
            assertThat(withLora.loras()).hasSize(1);
        }
    }

    private static StableDiffusion.Options options(LoraSpec spec) {
        return new StableDiffusion.Options(null, null, null, false, List.of(spec));
    }

    /** The component file of the copy with every planned difference merged at {@code scale}, as F32. */
    private static void mergedCopy(Path copy, String relative, TensorSource base, Plan p, String comp, double scale) {
        SafetensorsWriter w = new SafetensorsWriter();
        for (String name : base.names()) {
            float[] v = floats(base, name);
            double[] d = comp.equals(p.component.get(name)) ? p.deltas.get(name) : null;
            ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < v.length; i++) {
                b.putFloat((float) (v[i] + (d == null ? 0 : scale * d[i])));
            }
            w.add(name, DType.F32, shape(base, name), b.flip());
        }
        try {
            Files.delete(copy.resolve(relative));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        w.write(copy.resolve(relative));
    }

    @Test
    void a1111HashIsTheSha256AfterTheHeaderUnlessTheMetadataSaysIt() throws Exception {
        try (TensorSource unet = unet()) {
            Plan p = new Plan();
            lora(p, unet, kohya("lora_unet_", TO_Q), TO_Q, "unet", 2, 1, false, DType.F16,
                    new String[] {".lora_down.weight", ".lora_up.weight"}, 1);
            Path plain = write(tmp.resolve("a.safetensors"), p.parts, Map.of("ss_output_name", "a"));
            byte[] bytes = Files.readAllBytes(plain);
            long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            String afterHeader = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(java.util.Arrays.copyOfRange(bytes, (int) (8 + n), bytes.length)));
            try (LoraFile f = LoraFile.open(new LoraSpec(plain, 1))) {
                assertThat(f.a1111Hash()).isEqualTo(afterHeader);
            }
            Path tagged = write(tmp.resolve("b.safetensors"), p.parts, Map.of("sshs_model_hash", "ABCDEF0123456789"));
            try (LoraFile f = LoraFile.open(new LoraSpec(tagged, 1))) {
                assertThat(f.a1111Hash()).isEqualTo("abcdef0123456789");
            }
        }
    }

    @Test
    void lorasForAnotherModelOrOfOtherKindsFailInOneLine() {
        try (TensorSource unet = unet(); TensorSource te = textEncoder()) {
            Plan p = new Plan();
            lora(p, unet, "lora_unet_input_blocks_99_1_proj_in", TO_Q, "unet", 2, 1, false, DType.F32,
                    new String[] {".lora_down.weight", ".lora_up.weight"}, 1);
            Path wrong = write(tmp.resolve("other.safetensors"), p.parts, null);
            assertThatThrownBy(() -> {
                try (Loras l = Loras.open(List.of(new LoraSpec(wrong, 1)))) {
                    l.apply(LdmComponent.UNET, unet);
                    l.finish();
                }
            }).isInstanceOf(UnetlensException.class).hasMessage(wrong + ": 1 of 1 LoRA modules match no layer of this"
                    + " model ('lora_unet_input_blocks_99_1_proj_in', unet); is the LoRA for another model family"
                    + " (SD 1.x, SD 2.x, SDXL)?");

            long[] s = shape(unet, TO_Q);
            Path misfit = write(tmp.resolve("misfit.safetensors"), List.of(
                    new Part(kohya("lora_unet_", TO_Q) + ".lora_down.weight", new long[] {2, s[1] + 1}, randn(2 * (s[1] + 1), 1, 1), DType.F32),
                    new Part(kohya("lora_unet_", TO_Q) + ".lora_up.weight", new long[] {s[0], 2}, randn(2 * s[0], 2, 1), DType.F32)), null);
            assertThatThrownBy(() -> {
                try (Loras l = Loras.open(List.of(new LoraSpec(misfit, 1)))) {
                    l.apply(LdmComponent.UNET, unet).data(TO_Q);
                }
            }).hasMessageContaining("make no difference for a weight of shape " + java.util.Arrays.toString(s))
                    .hasMessageNotContaining("\n");

            String lokrModule = kohya("lora_unet_", TO_Q);
            Path flatLokr = write(tmp.resolve("flat-lokr.safetensors"), List.of(
                    new Part(lokrModule + ".lokr_w1", new long[] {2}, randn(2, 1, 1), DType.F32),
                    new Part(lokrModule + ".lokr_w2", new long[] {s[0] / 2, s[1]}, randn(s[0] / 2 * s[1], 2, 1), DType.F32)),
                    null);
            assertThatThrownBy(() -> {
                try (Loras l = Loras.open(List.of(new LoraSpec(flatLokr, 1)))) {
                    l.apply(LdmComponent.UNET, unet).data(TO_Q);
                }
            }).isInstanceOf(UnetlensException.class).hasMessage(flatLokr + ": module '" + lokrModule + "': w1 [2], w2 "
                    + java.util.Arrays.toString(new long[] {s[0] / 2, s[1]}) + " make no difference for a weight of"
                    + " shape " + java.util.Arrays.toString(s) + "; is the LoRA for another model?");
            Path ia3 = write(tmp.resolve("ia3.safetensors"), List.of(
                    new Part("lora_unet_x.on_input", new long[] {2, 2}, randn(4, 1, 1), DType.F32)), null);
            assertThatThrownBy(() -> Loras.open(List.of(new LoraSpec(ia3, 1))))
                    .hasMessage(ia3 + ": module 'lora_unet_x' is a LyCORIS (IA)³ module, which unetlens does not merge"
                            + " yet; unetlens merges LoRA, LoCon, LoHa, LoKr and full-difference modules");
            Path halfLokr = write(tmp.resolve("half-lokr.safetensors"), List.of(
                    new Part("lora_unet_x.lokr_w1", new long[] {2, 2}, randn(4, 1, 1), DType.F32)), null);
            assertThatThrownBy(() -> Loras.open(List.of(new LoraSpec(halfLokr, 1))))
                    .hasMessage(halfLokr + ": module 'lora_unet_x' lacks its lokr_w2 (or lokr_w2_a and lokr_w2_b) (it"
                            + " has [lokr_w1])");
            Path notLora = write(tmp.resolve("model.safetensors"), List.of(
                    new Part("conv_in.weight", new long[] {2}, randn(2, 1, 1), DType.F32)), null);
            assertThatThrownBy(() -> Loras.open(List.of(new LoraSpec(notLora, 1))))
                    .hasMessageContaining("is no part of a LoRA module").hasMessageContaining("is this a LoRA file?");
            assertThatThrownBy(() -> LoraSpec.parse("style.safetensors:strong"))
                    .hasMessage("--lora 'style.safetensors:strong': the scale 'strong' after the last ':' is not a"
                            + " number; write FILE or FILE:SCALE, like style.safetensors:0.8");
            assertThat(LoraSpec.parse("/a/b:c/style.safetensors:-0.5")).isEqualTo(new LoraSpec(Path.of("/a/b:c/style.safetensors"), -0.5));
        }
    }
}
