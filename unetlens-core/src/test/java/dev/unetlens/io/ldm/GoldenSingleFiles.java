package dev.unetlens.io.ldm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.DiffusersFolder;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The single-file checkpoints of the golden set (README §15), discovered from {@code index.json}: entries of kind
 * {@code file} under {@code models/single_file/} with {@code key_prefix_counts}: the safetensors files and the
 * {@code .ckpt} files of the same tensors (kind {@code models/ckpt}, README §18), which every single-file test runs
 * on alike. By convention a file is named {@code <model>[.<variant>].(safetensors|ckpt)} after the diffusers folder
 * {@code models/<model>/} it was made from.
 *
 * @param file    path relative to the golden root
 * @param model   the diffusers folder name ({@code tiny-sd15})
 * @param variant {@code fp16} / {@code bf16}, or null for the float32 file
 * @param entry   the index entry
 */
record GoldenSingleFiles(String file, String model, String variant, JsonNode entry) {
    private static final String DIR = "models/single_file/";

    static List<GoldenSingleFiles> all() {
        List<GoldenSingleFiles> files = Golden.get().entries().stream()
                .filter(e -> e.file().startsWith(DIR) && (e.kind().equals("models") || e.kind().equals("models/ckpt"))
                        && e.node().path("kind").asText().equals("file")
                        && e.node().has("key_prefix_counts"))
                .map(e -> of(e.file(), e.node()))
                .toList();
        if (files.isEmpty()) {
            throw new AssertionError("the golden index lists no single-file checkpoints under " + DIR);
        }
        return files;
    }

    private static GoldenSingleFiles of(String file, JsonNode entry) {
        String name = file.substring(DIR.length(), file.lastIndexOf('.'));
        int dot = name.lastIndexOf('.');
        return dot < 0 ? new GoldenSingleFiles(file, name, null, entry)
                : new GoldenSingleFiles(file, name.substring(0, dot), name.substring(dot + 1), entry);
    }

    /** Opens the checkpoint, recording the file as used. */
    SingleFileCheckpoint open() {
        return SingleFileCheckpoint.open(Golden.get().use(file));
    }

    DiffusersFolder folder() {
        return DiffusersFolder.open(Golden.get().path("models/" + model));
    }

    /**
     * The folder's weights to compare a component with: the variant file when the folder has one, else the float32
     * file (which the test then rounds the same way).
     */
    Path reference(LdmComponent c) {
        Path p;
        try {
            p = variant == null ? folder().weightFile(c.folder(), null) : folder().weightFile(c.folder(), variant);
        } catch (UnetlensException noVariant) {
            p = folder().weightFile(c.folder(), null);
        }
        return Golden.get().use(Golden.get().root().relativize(p).toString());
    }

    Map<String, Integer> prefixCounts() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        entry.get("key_prefix_counts").properties().forEach(e -> counts.put(e.getKey(), e.getValue().asInt()));
        return counts;
    }

    String label() {
        return file.substring(DIR.length());
    }
}
