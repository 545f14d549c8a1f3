package dev.unetlens.cli.bench;

import dev.unetlens.UnetlensException;
import dev.unetlens.io.AtomicFiles;
import dev.unetlens.io.CacheDir;
import dev.unetlens.synth.SyntheticModel;
import dev.unetlens.synth.SyntheticModel.Component;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The full-size models with random weights that the bench runs on, SD 1.5 and SDXL, kept in the cache
 * ({@code <cache>/models/sd15-random-v1}, {@code sdxl-random-v1}) and written component by component on first need
 * (SD 1.5's U-Net alone is 3.4 GB, SDXL's 10.3 GB). Each component is written into a private temporary folder and renamed into place in one step, so a
 * component folder that exists is complete, and concurrent benches never see half of one.
 */
public final class BenchModel {
    /** Bump when the configs, seed or weight rule change. */
    static final String VERSION = "1";
    static final long SEED = 20251;
    /** Marks a folder this class created: only such folders get missing components written into them. */
    static final String MARKER = ".unetlens-synthetic";

    private BenchModel() {
    }

    /** The default folder of {@code model}. */
    public static Path defaultDir(SyntheticModel model) {
        return CacheDir.root().resolve("models").resolve(model.id() + "-random-v" + VERSION);
    }

    /**
     * What the bench says of a model: how messages name it, the option naming its folder, the tag in its cases' names
     * ({@code unet_xl_128_b1}) and the disk its random weights take.
     */
    private record Facts(String label, String option, String caseTag, String diskGb) {
    }

    private static Facts facts(SyntheticModel model) {
        return switch (model) {
            case SD15 -> new Facts("SD 1.5", "--model", "", "~4.5");
            case SDXL -> new Facts("SDXL", "--model-xl", "xl_", "~11");
            case TINY_SD15 -> new Facts("tiny SD 1.5", "--model", "tiny_", "~0.01");
        };
    }

    /** How messages name {@code model}. */
    public static String label(SyntheticModel model) {
        return facts(model).label();
    }

    /** The option that names {@code model}'s folder. */
    public static String option(SyntheticModel model) {
        return facts(model).option();
    }

    /** What {@code model}'s case names carry after the component ({@code xl_} for SDXL, nothing for SD 1.5). */
    public static String caseTag(SyntheticModel model) {
        return facts(model).caseTag();
    }

    /**
     * Makes sure {@code dir} holds {@code components}: writes the missing ones if {@code dir} is new or one this
     * class created; fails, naming them, if it is someone else's folder. Returns the seconds spent writing each
     * component written now.
     */
    public static Map<Component, Double> ensure(SyntheticModel model, Path dir, Set<Component> components,
                                                java.util.function.Consumer<String> progress) {
        Map<Component, Double> written = new LinkedHashMap<>();
        boolean ours = !Files.exists(dir) || Files.exists(dir.resolve(MARKER));
        for (Component c : components) {
            Path folder = dir.resolve(folderName(c));
            if (Files.isDirectory(folder)) {
                continue;
            }
            if (!ours) {
                throw new UnetlensException(dir + " has no " + folderName(c) + "/; bench " + option(model) + " needs a"
                        + " diffusers " + label(model) + " folder with the components the cases use (or a new folder, to"
                        + " write random ones into)");
            }
            progress.accept("writing the full-size random " + label(model) + " " + folderName(c) + " into " + dir + " (once) …");
            long t0 = System.nanoTime();
            write(model, dir, c);
            written.put(c, (System.nanoTime() - t0) / 1e9);
        }
        return written;
    }

    /** The config keys that fix a component's shapes: a model must match the full-size one in them to be benched. */
    private static final Map<Component, java.util.List<String>> SHAPE_KEYS = Map.of(
            Component.UNET, java.util.List.of("in_channels", "block_out_channels", "layers_per_block", "cross_attention_dim",
                    "attention_head_dim", "down_block_types", "up_block_types", "transformer_layers_per_block",
                    "addition_embed_type", "projection_class_embeddings_input_dim"),
            Component.VAE, java.util.List.of("block_out_channels", "layers_per_block", "latent_channels"),
            Component.TEXT_ENCODER, java.util.List.of("hidden_size", "num_hidden_layers", "num_attention_heads",
                    "intermediate_size"));

    /**
     * Refuses a model whose components differ in shape from the full-size {@code model} (the cases' inputs, FLOP counts
     * and the reference figures are its), naming the first difference.
     */
    public static void checkShapes(SyntheticModel model, Path dir, Set<Component> components) {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (Component c : components) {
            java.util.List<String> keys = SHAPE_KEYS.get(c);
            Path file = dir.resolve(folderName(c)).resolve("config.json");
            if (keys == null || !Files.isRegularFile(file)) {
                continue;
            }
            try {
                var mine = json.readTree(file.toFile());
                var full = json.readTree(model.config(c));
                for (String k : keys) {
                    if (!mine.path(k).equals(full.path(k)) && full.has(k)) {
                        throw new UnetlensException("bench " + option(model) + " " + dir + ": the cases time full-size "
                                + label(model) + ", whose " + folderName(c) + " has " + k + " " + full.get(k)
                                + "; this model's has "
                                + (mine.has(k) ? mine.get(k).toString() : "none") + " (time it with generate or extract)");
                    }
                }
            } catch (IOException e) {
                throw new UnetlensException(file + ": cannot read (" + e.getMessage() + ")", e);
            }
        }
    }

    private static String folderName(Component c) {
        return switch (c) {
            case UNET -> "unet";
            case VAE -> "vae";
            case TEXT_ENCODER -> "text_encoder";
            case TOKENIZER -> "tokenizer";
            case SCHEDULER -> "scheduler";
        };
    }

    private static void write(SyntheticModel model, Path dir, Component c) {
        Path tmp = dir.resolveSibling("." + dir.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            Files.createDirectories(dir);
            AtomicFiles.writeString(dir.resolve(MARKER), "full-size " + label(model) + " with random weights, seed " + SEED
                    + ", written by unetlens bench\n");
            model.write(tmp, SEED, Set.of(c));
            if (!Files.exists(dir.resolve("model_index.json"))) {
                Files.copy(tmp.resolve("model_index.json"), dir.resolve(".model_index.json.tmp"), StandardCopyOption.REPLACE_EXISTING);
                Files.move(dir.resolve(".model_index.json.tmp"), dir.resolve("model_index.json"), StandardCopyOption.ATOMIC_MOVE);
            }
            try {
                Files.move(tmp.resolve(folderName(c)), dir.resolve(folderName(c)), StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                // another bench finished it first: use that one
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp.resolve(folderName(c)), dir.resolve(folderName(c)));
            }
        } catch (IOException e) {
            throw new UnetlensException("cannot write the bench model under " + dir + ": " + e.getMessage()
                    + " (set UNETLENS_CACHE or bench " + option(model) + " to a writable folder with "
                    + facts(model).diskGb() + " GB free)", e);
        } finally {
            AtomicFiles.deleteTreeQuietly(tmp);
        }
    }
}
