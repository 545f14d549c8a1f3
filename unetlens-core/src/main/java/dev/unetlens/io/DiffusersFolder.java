package dev.unetlens.io;

import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A model in the diffusers folder layout: {@code model_index.json} and one subfolder per component
 * ({@code unet/}, {@code vae/}, {@code text_encoder/}, {@code text_encoder_2/}, {@code tokenizer/},
 * {@code tokenizer_2/}, {@code scheduler/}), each with its {@code config.json} and weights.
 *
 * <p>Weights are found as diffusers does: {@code diffusion_pytorch_model[.VARIANT].safetensors} (U-Net, VAE) or
 * {@code model[.VARIANT].safetensors} (text encoders), or a sharded {@code ….safetensors.index.json}; where a folder
 * has no safetensors weights, the PyTorch files {@code diffusion_pytorch_model[.VARIANT].bin} or
 * {@code pytorch_model[.VARIANT].bin}, which the restricted pickle reader opens without running them.
 */
public final class DiffusersFolder {
    private static final List<String> WEIGHT_STEMS = List.of("diffusion_pytorch_model", "model");
    /** diffusers' and transformers' names of PyTorch weight files. */
    private static final List<String> PICKLE_STEMS = List.of("diffusion_pytorch_model", "pytorch_model");

    private final Path root;

    private DiffusersFolder(Path root) {
        this.root = root;
    }

    /** Opens a diffusers model folder; fails with one line if it is not one. */
    public static DiffusersFolder open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new UnetlensException(dir + ": no such model folder; give a diffusers folder (with model_index.json)"
                    + " or a single .safetensors checkpoint");
        }
        String problem = InputFiles.problem(dir.resolve("model_index.json"));
        if (problem != null) {
            throw new UnetlensException(Files.notExists(dir.resolve("model_index.json"))
                    ? dir + ": no model_index.json; this is not a diffusers model folder"
                    : dir.resolve("model_index.json") + ": " + problem);
        }
        return new DiffusersFolder(dir);
    }

    public Path root() {
        return root;
    }

    public Path modelIndex() {
        return root.resolve("model_index.json");
    }

    public boolean hasComponent(String name) {
        return Files.isDirectory(root.resolve(name));
    }

    /** The folder of a component, which must exist. */
    public Path component(String name) {
        Path p = root.resolve(name);
        if (!Files.isDirectory(p)) {
            throw new UnetlensException(root + ": the model has no " + name + "/ folder");
        }
        return p;
    }

    /** {@code <component>/config.json} ({@code scheduler_config.json} for the scheduler). */
    public Path config(String component) {
        Path dir = component(component);
        Path p = dir.resolve(component.startsWith("scheduler") ? "scheduler_config.json" : "config.json");
        if (Files.notExists(p)) {
            throw new UnetlensException(p + ": missing; every diffusers component folder has one");
        }
        InputFiles.requireRegular(p);
        return p;
    }

    /**
     * The weight file (or shard index) of a component for a variant ({@code null}: the plain float32 files;
     * {@code "fp16"}, {@code "bf16"}: the variant files).
     */
    public Path weightFile(String component, String variant) {
        Path dir = component(component);
        String suffix = variant == null ? "" : "." + variant;
        for (String stem : WEIGHT_STEMS) {
            Path single = dir.resolve(stem + suffix + ".safetensors");
            if (Files.exists(single)) {   // not necessarily a regular file: opening it says what it is
                return single;
            }
            Path index = dir.resolve(stem + suffix + ".safetensors.index.json");
            if (Files.exists(index)) {
                return index;
            }
        }
        for (String stem : PICKLE_STEMS) {
            Path bin = dir.resolve(stem + suffix + ".bin");
            if (Files.exists(bin)) {
                return bin;
            }
        }
        List<String> present = listWeightFiles(dir);
        throw new UnetlensException(dir + ": no " + (variant == null ? "" : variant + " variant ") + "safetensors weights"
                + (present.isEmpty() ? "" : " (found: " + String.join(", ", present) + ")")
                + (variant == null && present.stream().anyMatch(f -> f.contains(".fp16.") || f.contains(".bf16."))
                        ? "; choose a variant with --variant fp16 or bf16" : ""));
    }

    private static List<String> listWeightFiles(Path dir) {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString())
                    .filter(f -> f.endsWith(".safetensors") || f.endsWith(".json") && f.contains(".index.")
                            || f.endsWith(".bin") || f.endsWith(".ckpt") || f.endsWith(".pt") || f.endsWith(".pth"))
                    .sorted().forEach(out::add);
        } catch (IOException e) {
            throw new UnetlensException(dir + ": cannot list (" + Messages.value(e.getMessage()) + ")", e);
        }
        return out;
    }

    /** Opens the weights of a component (single file or shards). */
    public TensorSource openWeights(String component, String variant) {
        Path file = weightFile(component, variant);
        if (file.getFileName().toString().endsWith(".index.json")) {
            throw new UnetlensException(file + ": sharded checkpoints are not supported yet");
        }
        return WeightFiles.open(file);
    }
}
