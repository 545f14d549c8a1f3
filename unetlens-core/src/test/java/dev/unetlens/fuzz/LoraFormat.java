package dev.unetlens.fuzz;

import dev.unetlens.lora.LoraSpec;
import dev.unetlens.pipeline.StableDiffusion;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A LoRA for the micro model (kohya names with alphas, LoCon on a 3×3 conv, LoKr with a Tucker core on another, the text encoder's projections; or the
 * same in diffusers/PEFT names) with its keys or shapes edited as broken and foreign LoRAs have them: modules
 * renamed, moved to another component or to one the model lacks, parts dropped, renamed or of LyCORIS types
 * unetlens does not merge, diffusers' PEFT metadata (lora_adapter_metadata) with alphas of any JSON type, broken or
 * backtracking patterns, the same layer changed twice, ranks that disagree, transposed, 3-D, 5-D, empty or huge
 * shapes, integer dtypes, alphas of other shapes or values, scales of 0, -1 and 1e30; or any
 * {@link SafetensorsMutations} edit of the file. Merged into the micro model, which then generates.
 */
final class LoraFormat implements FuzzFormat {
    private static final List<String> PARTS = List.of("lora_down.weight", "lora_up.weight", "alpha", "lora_mid.weight",
            "lora_A.weight", "hada_w1_a", "lokr_w1", "dora_scale", "diff", "weight", "on_input", "x");
    private static final List<Double> SCALES = List.of(1.0, 1.0, 0.5, 0.0, -1.0, 1e30, 1e-30);

    private final MicroModel micro;
    private final StFile kohya;
    private final StFile peft;

    LoraFormat(MicroModel micro) {
        this.micro = micro;
        StFile unet = StFile.read(micro.file("unet/diffusion_pytorch_model.safetensors"));
        StFile te = StFile.read(micro.file("text_encoder/model.safetensors"));
        this.kohya = lora(unet, te, true);
        this.peft = lora(unet, te, false);
    }

    @Override
    public String name() {
        return "lora";
    }

    @Override
    public int weight() {
        return 10;
    }

    /** LoRA modules for the attention, projection and feed-forward layers, one 3×3 conv and the text encoder. */
    private static StFile lora(StFile unet, StFile te, boolean kohya) {
        StFile f = new StFile();
        SplittableRandom rnd = new SplittableRandom(kohya ? 1 : 2);
        for (StFile.Tensor t : unet.tensors) {
            boolean linear = t.name.matches(".*(to_[qkv]|to_out\\.0|proj_in|proj_out|ff\\.net\\.(0\\.proj|2))\\.weight");
            boolean conv = t.name.endsWith("resnets.0.conv1.weight");
            if (kohya && t.name.endsWith("resnets.0.conv2.weight")) {
                lokr(f, t, rnd);
            } else if (linear || conv) {
                add(f, kohya ? "lora_unet_" : "unet.", t, rnd, kohya);
            }
        }
        for (StFile.Tensor t : te.tensors) {
            if (t.name.matches(".*self_attn\\.(q|k|v|out)_proj\\.weight|.*mlp\\.fc[12]\\.weight")) {
                add(f, kohya ? "lora_te_" : "text_encoder.", t, rnd, kohya);
            }
        }
        return f;
    }

    private static void add(StFile f, String prefix, StFile.Tensor w, SplittableRandom rnd, boolean kohya) {
        String module = w.name.substring(0, w.name.length() - ".weight".length());
        String name = kohya ? prefix + module.replace('.', '_') : prefix + module;
        long rank = 2;
        long[] down = w.shape.length == 4 ? new long[] {rank, w.shape[1], w.shape[2], w.shape[3]}
                : new long[] {rank, w.elements() / w.shape[0]};
        long[] up = w.shape.length == 4 ? new long[] {w.shape[0], rank, 1, 1} : new long[] {w.shape[0], rank};
        String dtype = rnd.nextBoolean() ? "F16" : "F32";
        f.tensors.add(new StFile.Tensor(name + (kohya ? ".lora_down.weight" : ".lora_A.weight"), dtype, down,
                Mutations.floats(rnd, dtype, (int) (rank * down[1] * (down.length == 4 ? down[2] * down[3] : 1)))));
        f.tensors.add(new StFile.Tensor(name + (kohya ? ".lora_up.weight" : ".lora_B.weight"), dtype, up,
                Mutations.floats(rnd, dtype, (int) (up[0] * rank))));
        if (kohya) {
            f.tensors.add(new StFile.Tensor(name + ".alpha", "F32", new long[] {}, Mutations.floats(rnd, "F32", 1)));
        }
    }

    /** A LoKr module of a 3×3 conv: w1 [2, 1] whole, w2 a Tucker product [O/2, I, 3, 3] of rank 2. */
    private static void lokr(StFile f, StFile.Tensor w, SplittableRandom rnd) {
        String name = "lora_unet_" + w.name.substring(0, w.name.length() - ".weight".length()).replace('.', '_');
        long r = 2;
        long[][] shapes = {{2, 1}, {r, r, w.shape[2], w.shape[3]}, {r, w.shape[0] / 2}, {r, w.shape[1]}, {}};
        String[] parts = {".lokr_w1", ".lokr_t2", ".lokr_w2_a", ".lokr_w2_b", ".alpha"};
        for (int i = 0; i < parts.length; i++) {
            long n = 1;
            for (long d : shapes[i]) {
                n *= d;
            }
            f.tensors.add(new StFile.Tensor(name + parts[i], "F32", shapes[i], Mutations.floats(rnd, "F32", (int) n)));
        }
    }

    @Override
    public FuzzCase make(SplittableRandom rnd, Path dir) throws IOException {
        boolean kohyaLayout = rnd.nextInt(3) > 0;
        StFile base = kohyaLayout ? kohya : peft;
        StringBuilder note = new StringBuilder(kohyaLayout ? "kohya: " : "peft: ");
        byte[] bytes;
        if (rnd.nextInt(4) == 0) {
            bytes = SafetensorsMutations.mutate(base, rnd, note);
        } else {
            StFile f = base.copy();
            edit(f, rnd, note);
            bytes = f.bytes();
        }
        double scale = Mutations.pick(rnd, SCALES);
        note.append(" at scale ").append(scale);
        Path file = Files.write(dir.resolve(rnd.nextInt(8) == 0 ? "style.pt" : "style.safetensors"), bytes);
        Path model = micro.linkFolder(dir.resolve("model"), null);
        StableDiffusion.Options options = new StableDiffusion.Options(null, null, null, false,
                List.of(new LoraSpec(file, scale)));
        return new FuzzCase(note.toString(), List.of(file), () -> Checks.pipeline(model, options));
    }

    private static void edit(StFile f, SplittableRandom rnd, StringBuilder note) {
        StFile.Tensor t = Mutations.pick(rnd, f.tensors);
        int dot = t.name.indexOf(t.name.startsWith("lora_") ? "." : ".lora_");
        String module = dot < 0 ? t.name : t.name.substring(0, dot);
        switch (rnd.nextInt(13)) {
            case 0 -> {
                String to = Mutations.pick(rnd, List.of("lora_te2_", "lora_vae_", "lora_unet_x", "unet.", "text_encoder_2.",
                        "", "lora_te1_", "lora_unet_input_blocks_99_1_"));
                note.append("move ").append(module).append(" under '").append(to).append("'");
                String prefix = java.util.stream.Stream.of("lora_unet_", "lora_te_", "unet.", "text_encoder.")
                        .filter(module::startsWith).findFirst().orElse("");
                f.tensors.stream().filter(x -> x.name.startsWith(module + "."))
                        .forEach(x -> x.name = to + x.name.substring(prefix.length()));
            }
            case 1 -> {
                String old = t.name;
                t.name = SafetensorsMutations.otherName(old, rnd, f);
                note.append("rename ").append(old).append(" to ").append(JsonMutations.shortText(t.name));
            }
            case 2 -> {
                String part = Mutations.pick(rnd, PARTS);
                note.append("part ").append(part).append(" of ").append(module);
                t.name = module + "." + part;
            }
            case 3 -> {
                f.tensors.remove(t);
                note.append("drop ").append(t.name);
            }
            case 4 -> {
                List<StFile.Tensor> copies = new ArrayList<>();
                f.tensors.stream().filter(x -> x.name.startsWith(module + ".")).forEach(x -> copies.add(x.copy()));
                String twin = module.startsWith("lora_unet_") ? "unet." + module.substring(10) : "lora_unet_x" + module;
                copies.forEach(c -> c.name = twin + c.name.substring(module.length()));
                f.tensors.addAll(copies);
                note.append("the same module twice: ").append(module).append(" and ").append(JsonMutations.shortText(twin));
            }
            case 5, 6, 7 -> {
                t.shape = SafetensorsMutations.otherShape(t.shape, t.elements(), rnd);
                t.data = Mutations.floats(rnd, t.dtype, (int) Math.min(t.elements(), 1 << 20));
                note.append("reshape ").append(t.name).append(" to ").append(JsonMutations.shortText(
                        java.util.Arrays.toString(t.shape)));
            }
            case 8 -> {
                long[] s = t.shape.clone();
                if (s.length >= 2) {
                    long x = s[0];
                    s[0] = s[1];
                    s[1] = x;
                }
                t.shape = s;
                note.append("transpose ").append(t.name);
            }
            case 9 -> {
                t.dtype = Mutations.pick(rnd, SafetensorsMutations.DTYPES);
                t.data = Mutations.floats(rnd, t.dtype, (int) t.elements());
                note.append("retype ").append(t.name).append(" to ").append(t.dtype);
            }
            case 10 -> {
                String alpha = module + ".alpha";
                f.tensors.removeIf(x -> x.name.equals(alpha));
                long[] shape = Mutations.pick(rnd, List.of(new long[] {}, new long[] {1}, new long[] {2}, new long[] {1, 1}));
                float v = Mutations.pick(rnd, List.of(0f, -1f, Float.NaN, Float.POSITIVE_INFINITY, 1e30f, 2f));
                ByteBuffer b = ByteBuffer.allocate(4 * (int) Math.max(1, shape.length == 0 ? 1 : shape[0]))
                        .order(ByteOrder.LITTLE_ENDIAN);
                while (b.hasRemaining()) {
                    b.putFloat(v);
                }
                f.tensors.add(new StFile.Tensor(alpha, "F32", shape, b.array()));
                note.append("alpha of ").append(module).append(" = ").append(v).append(" shape ")
                        .append(java.util.Arrays.toString(shape));
            }
            case 11 -> {
                String key = Mutations.pick(rnd, List.of("unet.lora_alpha", "text_encoder.lora_alpha",
                        "unet.alpha_pattern", "unet.use_rslora", "unet.r"));
                String value = Mutations.pick(rnd, List.of("8", "0", "-1", "1e308", "\"8\"", "null", "[]", "true",
                        "{\"to_q\": 4}", "{\"(.*)*x\": 2}", "{\"[\": 2}", "{\"attn1.to_k\": \"x\"}"));
                String json = Mutations.pick(rnd, List.of("{\"" + key + "\": " + value + "}", "{", "[1]", "",
                        "{\"unet.lora_alpha\": 4, \"" + key + "\": " + value + "}"));
                f.metadata = f.metadata == null ? new java.util.LinkedHashMap<>() : f.metadata;
                f.metadata.put("lora_adapter_metadata", json);
                note.append("PEFT metadata ").append(JsonMutations.shortText(json));
            }
            default -> {
                note.append("no edit");
            }
        }
    }
}
