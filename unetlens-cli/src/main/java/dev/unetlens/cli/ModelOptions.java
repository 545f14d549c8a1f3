package dev.unetlens.cli;

import dev.unetlens.UnetlensException;
import dev.unetlens.io.ldm.InferOptions;
import dev.unetlens.lora.LoraSpec;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.synth.BundledModel;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Which model to load: {@code --model} and the options of single-file checkpoints. */
public final class ModelOptions {
    @Option(names = "--model", paramLabel = "PATH",
            description = "A diffusers model folder or a single-file checkpoint: .safetensors, or .ckpt/.pt read without"
                    + " running its pickle (default: the bundled tiny model).")
    Path model;

    @Option(names = "--variant", paramLabel = "NAME",
            description = "Weight variant of a diffusers folder: fp16 or bf16 (computed in float32).")
    String variant;

    @Option(names = "--config", paramLabel = "DIR",
            description = "For a single-file checkpoint: a diffusers folder whose configs describe it (default: inferred).")
    Path configs;

    @Option(names = "--prediction-type", paramLabel = "TYPE",
            description = "For a single-file checkpoint: epsilon, v_prediction or sample (default: diffusers' guess).")
    String predictionType;

    @Option(names = "--ema", description = "For a single-file checkpoint: use its EMA U-Net weights (model_ema.*)"
            + " instead of the trained ones, as diffusers' extract_ema (default: the trained ones, as A1111).")
    boolean ema;

    @Option(names = "--lora", paramLabel = "FILE[:SCALE]",
            description = "Merge a LoRA (kohya/A1111 or diffusers/PEFT layout; LoRA, LoCon, LoHa, LoKr) into the U-Net and"
                    + " text encoders at SCALE (default 1); repeat for several.")
    List<String> loras = new ArrayList<>();

    /** The model path: {@code --model}, or the bundled tiny model (written on first use). */
    Path path() {
        if (model == null) {
            return BundledModel.ensure();
        }
        if (!Files.exists(model)) {
            throw new UnetlensException(model + ": no such model; give a diffusers folder or a .safetensors or .ckpt checkpoint");
        }
        return model;
    }

    StableDiffusion load() {
        return load(dev.unetlens.model.Precision.FP32);
    }

    /** {@link #load()} with the U-Net's products in {@code precision}. */
    StableDiffusion load(dev.unetlens.model.Precision precision) {
        InferOptions infer = new InferOptions(predictionType, null, null);
        return StableDiffusion.load(path(), new StableDiffusion.Options(variant, configs, infer, ema, loraSpecs())
                .withPrecision(precision));
    }

    /** Refuses {@code --lora} in a command that loads no weights to merge it into, saying what it does instead. */
    void refuseLoras(String command, String instead) {
        if (!loras.isEmpty()) {
            throw new UnetlensException("--lora is merged into the weights when a model loads (generate, extract, diff,"
                    + " sweep); " + command + " " + instead);
        }
    }

    /** The {@code --lora} options, parsed. */
    List<LoraSpec> loraSpecs() {
        return loras.stream().map(LoraSpec::parse).toList();
    }

    /** A short model name for image metadata. */
    String name() {
        Path p = path();
        String n = p.getFileName().toString();
        return n.endsWith(".safetensors") ? n.substring(0, n.length() - ".safetensors".length()) : n;
    }
}
