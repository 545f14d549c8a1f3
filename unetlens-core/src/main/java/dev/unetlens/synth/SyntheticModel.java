package dev.unetlens.synth;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.io.AtomicFiles;
import dev.unetlens.io.DType;
import dev.unetlens.io.SafetensorsWriter;
import dev.unetlens.model.TorchRuntime;
import dev.unetlens.model.Weights;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.vae.AutoencoderKL;
import dev.unetlens.tokenizer.TokenizerFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Models with the structure of real Stable Diffusion checkpoints and deterministic random weights (the golden
 * fixtures' rule, see {@link Weights#random}), written in the diffusers folder layout: the bundled tiny model
 * that the demo and tests run on, and full-size models for benchmarks. The configs are resources of this
 * package; the weight names and shapes come from building the model classes themselves, so they can never
 * disagree with what the loaders expect.
 */
public enum SyntheticModel {
    /** Tiny SD 1.5-structured model (≈1 M parameters): the demo's and the tests' model. */
    TINY_SD15("tiny-sd15"),
    /** SD 1.5 at full size (860 M U-Net, 84 M VAE, 123 M CLIP-L), random weights: for benchmarks. */
    SD15("sd15"),
    /**
     * SDXL base's U-Net (2.57 G parameters) and VAE at full size, random weights, for benchmarks; no text encoders
     * (the U-Net cases feed random text states and pooled embeddings).
     */
    SDXL("sdxl");

    /** The parts of a model folder. */
    public enum Component { UNET, VAE, TEXT_ENCODER, TOKENIZER, SCHEDULER }

    private final String resource;

    SyntheticModel(String resource) {
        this.resource = resource;
    }

    public String id() {
        return resource;
    }

    /** Writes the whole model into {@code dir} (created; must not hold a model already). */
    public void write(Path dir, long seed) {
        write(dir, seed, EnumSet.allOf(Component.class));
    }

    /** Writes the chosen components (and {@code model_index.json}) into {@code dir}. */
    public void write(Path dir, long seed, Set<Component> components) {
        Set<Component> missing = EnumSet.noneOf(Component.class);         // (EnumSet.copyOf refuses an empty Set.of())
        missing.addAll(components);
        missing.removeAll(components());
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("the synthetic " + resource + " model has no " + missing + "; it has " + components());
        }
        try {
            Files.createDirectories(dir);
            copyResource("model_index.json", dir.resolve("model_index.json"));
            for (Component c : components) {
                switch (c) {
                    case UNET -> weights(dir, "unet", "diffusion_pytorch_model.safetensors", seed,
                            (w, cfg) -> new dev.unetlens.model.unet.UNet2DConditionModel(w, dev.unetlens.config.UNetConfig.from(cfg)));
                    case VAE -> weights(dir, "vae", "diffusion_pytorch_model.safetensors", seed,
                            (w, cfg) -> new AutoencoderKL(w, VaeConfig.from(cfg)));
                    case TEXT_ENCODER -> weights(dir, "text_encoder", "model.safetensors", seed,
                            (w, cfg) -> new ClipTextModel(w, ClipTextConfig.from(cfg)));
                    case TOKENIZER -> tokenizer(dir.resolve("tokenizer"));
                    case SCHEDULER -> copyResource("scheduler.json", dir.resolve("scheduler/scheduler_config.json"));
                    default -> throw new IllegalStateException(c.name());
                }
            }
        } catch (IOException e) {
            throw new UnetlensException("cannot write model to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The components this model has. */
    public Set<Component> components() {
        return this == SDXL ? EnumSet.of(Component.UNET, Component.VAE, Component.SCHEDULER) : EnumSet.allOf(Component.class);
    }

    /** The config.json text of a weight component (UNET, VAE, TEXT_ENCODER) of this model. */
    public String config(Component c) {
        String name = switch (c) {
            case UNET -> "unet";
            case VAE -> "vae";
            case TEXT_ENCODER -> "text_encoder";
            default -> throw new IllegalArgumentException(c + " has no config.json");
        };
        try (InputStream in = SyntheticModel.class.getResourceAsStream(resource + "/" + name + ".json")) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource + "/" + name + ".json");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Builds a component from its config with random weights. */
    @FunctionalInterface
    interface Builder {
        Object build(Weights weights, JsonConfig config);
    }

    private void weights(Path dir, String component, String file, long seed, Builder builder) throws IOException {
        Path folder = dir.resolve(component);
        Files.createDirectories(folder);
        Path config = folder.resolve("config.json");
        copyResource(component + ".json", config);
        long componentSeed = seed * 31 + component.hashCode();
        try (NDManager m = TorchRuntime.newBaseManager()) {
            Weights names = Weights.placeholders(m, component);           // names and shapes, in the model's order
            builder.build(names, JsonConfig.read(config));
            SafetensorsWriter writer = new SafetensorsWriter().metadata(Map.of("format", "pt"));
            for (Map.Entry<String, NDArray> e : names.taken().entrySet()) {
                String key = e.getKey();
                long[] shape = e.getValue().getShape().getShape();
                // made as the file is written, one tensor at a time: the full-size U-Net never sits in memory whole
                writer.add(key, DType.F32, shape, out -> out.write(littleEndian(Weights.randomValues(componentSeed, key, shape))));
            }
            writer.write(folder.resolve(file));
        }
    }

    private static byte[] littleEndian(float[] v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(v.length * Float.BYTES).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    /** vocab.json, merges.txt and the tokenizer configs of SD 1.x's CLIP tokenizer, from the bundled BPE file. */
    private static void tokenizer(Path folder) throws IOException {
        Files.createDirectories(folder);
        for (Map.Entry<String, byte[]> f : TokenizerFiles.clip("<|endoftext|>").entrySet()) {
            AtomicFiles.writeBytes(folder.resolve(f.getKey()), f.getValue());
        }
    }

    private void copyResource(String name, Path target) throws IOException {
        String path = resource + "/" + name;
        try (InputStream in = SyntheticModel.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new UncheckedIOException(new IOException("missing resource " + path));
            }
            Files.createDirectories(target.toAbsolutePath().getParent());
            AtomicFiles.writeString(target, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }
}
