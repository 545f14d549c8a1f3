package dev.unetlens.fuzz;

import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.io.ldm.CheckpointConfigs;
import dev.unetlens.io.ldm.LdmComponent;
import dev.unetlens.io.ldm.LdmFamily;
import dev.unetlens.io.ldm.SingleFileCheckpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A single-file checkpoint in LDM naming (SD 1.x, 2.x or XL) with its keys edited as conversions and hand edits break
 * them (block indices of 2³¹ and more, another family's prefix, a dropped or doubled key, an extra), with the tensors
 * that config inference reads given other ranks or no elements with huge dimensions, or with any
 * {@link SafetensorsMutations} edit; opened, its configs inferred and every component loaded with them.
 */
final class SingleFileFormat implements FuzzFormat {
    /** Keys whose shapes config inference or family detection reads. */
    private static final List<String> SHAPE_READ = List.of("attn2.to_k.weight", "input_blocks.0.0.weight",
            "out.2.weight", "label_emb.0.0.weight", "proj_in.weight", "token_embedding.weight", "positional_embedding",
            "position_embedding.weight", "text_projection", "in_proj_weight", "attn_1.q.weight", "out_layers.3.weight",
            "mlp.c_fc.weight", "mlp.fc1.weight", "encoder.conv_in.weight", "encoder.conv_out.weight");
    private static final List<String> PREFIXES = List.of("model.diffusion_model.", "first_stage_model.",
            "cond_stage_model.transformer.", "cond_stage_model.model.", "conditioner.embedders.0.transformer.",
            "conditioner.embedders.0.model.", "conditioner.embedders.1.model.", "model_ema.", "");
    private static final List<String> EXTRAS = List.of("model_ema.decay", "betas", "alphas_cumprod", "denoiser.sigmas",
            "lora_unet_down.lora_up.weight", "model.diffusion_model.input_blocks.1.1.extra", "logit_scale", "x");

    private final MicroModel micro;

    SingleFileFormat(MicroModel micro) {
        this.micro = micro;
    }

    @Override
    public String name() {
        return "single-file";
    }

    @Override
    public int weight() {
        return 16;
    }

    @Override
    public FuzzCase make(SplittableRandom rnd, Path dir) throws IOException {
        LdmFamily family = Mutations.pick(rnd, List.of(LdmFamily.SD1, LdmFamily.SD1, LdmFamily.SD1, LdmFamily.SD1,
                LdmFamily.SD2, LdmFamily.SDXL));
        StringBuilder note = new StringBuilder(family.label()).append(": ");
        StFile base = micro.singleFiles.get(family);
        byte[] bytes;
        if (rnd.nextInt(5) < 3) {
            StFile f = base.copy();
            keyEdit(f, rnd, note);
            bytes = f.bytes();
        } else {
            bytes = SafetensorsMutations.mutate(base, rnd, note);
        }
        String name = rnd.nextInt(25) == 0 ? Mutations.pick(rnd, List.of("model.ckpt", "model.pt", "model.bin"))
                : "model.safetensors";
        Path file = Files.write(dir.resolve(name), bytes);
        return new FuzzCase(note.toString(), List.of(file), () -> load(file));
    }

    /** Opens the checkpoint, infers its configs and loads every component it has with them. */
    static void load(Path file) {
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(file)) {
            CheckpointConfigs c = ckpt.inferConfigs();
            Checks.unet(ckpt.component(LdmComponent.UNET), UNetConfig.from(c.json(LdmComponent.UNET)));
            if (ckpt.has(LdmComponent.VAE)) {
                Checks.vae(ckpt.component(LdmComponent.VAE), VaeConfig.from(c.json(LdmComponent.VAE)));
            }
            for (LdmComponent text : List.of(LdmComponent.TEXT_ENCODER, LdmComponent.TEXT_ENCODER_2)) {
                if (ckpt.has(text)) {
                    Checks.textEncoder(ckpt.component(text), ClipTextConfig.from(c.json(text)));
                }
            }
        }
    }

    private static void keyEdit(StFile f, SplittableRandom rnd, StringBuilder note) {
        int op = rnd.nextInt(10);
        StFile.Tensor t = op < 5 ? shapeRead(f, rnd) : Mutations.pick(rnd, f.tensors);
        switch (op) {
            case 0, 1, 2 -> {
                t.shape = SafetensorsMutations.otherShape(t.shape, t.elements(), rnd);
                t.data = Mutations.floats(rnd, t.dtype, (int) Math.min(t.elements(), 1 << 20));
                note.append("reshape ").append(t.name).append(" to ").append(JsonMutations.shortText(
                        java.util.Arrays.toString(t.shape)));
            }
            case 3, 4 -> {
                t.dtype = Mutations.pick(rnd, SafetensorsMutations.DTYPES);
                t.data = Mutations.floats(rnd, t.dtype, (int) t.elements());
                note.append("retype ").append(t.name).append(" to ").append(t.dtype);
            }
            case 5, 6 -> {
                String old = t.name;
                t.name = SafetensorsMutations.otherName(old, rnd, f);
                note.append("rename ").append(old).append(" to ").append(JsonMutations.shortText(t.name));
            }
            case 7 -> {
                String from = PREFIXES.stream().filter(p -> !p.isEmpty() && t.name.startsWith(p)).findFirst().orElse("");
                String to = Mutations.pick(rnd, PREFIXES);
                note.append("move ").append(t.name).append(" under '").append(to).append("'");
                t.name = to + t.name.substring(from.length());
            }
            case 8 -> {
                f.tensors.remove(t);
                note.append("drop ").append(t.name);
            }
            default -> {
                String name = Mutations.pick(rnd, EXTRAS);
                f.tensors.add(new StFile.Tensor(name, "F32", new long[] {2}, new byte[8]));
                note.append("add ").append(name);
            }
        }
    }

    /** A tensor whose shape inference reads, if the file has one. */
    private static StFile.Tensor shapeRead(StFile f, SplittableRandom rnd) {
        String suffix = Mutations.pick(rnd, SHAPE_READ);
        List<StFile.Tensor> hits = f.tensors.stream().filter(t -> t.name.endsWith(suffix)).toList();
        return hits.isEmpty() ? Mutations.pick(rnd, f.tensors) : Mutations.pick(rnd, hits);
    }
}
