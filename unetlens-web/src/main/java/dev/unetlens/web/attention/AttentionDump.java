package dev.unetlens.web.attention;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.io.RgbImage;
import dev.unetlens.tokenizer.ClipTokenizer;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Plane;
import dev.unetlens.viz.attention.AttentionProbs;
import dev.unetlens.web.ApiError;
import dev.unetlens.web.Params;
import dev.unetlens.web.runs.Catalog;
import dev.unetlens.web.runs.Manifest;
import dev.unetlens.web.runs.RunsRoot;
import dev.unetlens.web.tensors.TensorReader;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The attention probabilities a generation dump holds ({@code extract --prompt … --at …attn2:probs, …attn1:probs}):
 * per module its kind, heads, map size and steps, read one batch row at a time from the memory-mapped files (a
 * self-attention's query only its rows). Each row is a prompt's conditional half when the dump has it (what
 * {@code extract} keeps by default), else the one branch dumped.
 *
 * @param root     the runs folder (every file is resolved through it)
 * @param dir      the run
 * @param manifest its manifest
 * @param catalog  its tensors
 * @param modules  the attention modules, in dump order
 * @param latent   the latent's [h, w] the dump records
 */
record AttentionDump(RunsRoot root, Path dir, Manifest manifest, Catalog catalog, Map<String, Module> modules, int[] latent) {

    /**
     * One attention module as dumped.
     *
     * @param name   hook point without {@code :probs} ({@code down_blocks.1.attentions.0.transformer_blocks.0.attn2})
     * @param cross  true for cross-attention (keys are text tokens), false for self-attention (keys = queries)
     * @param rows   batch rows of one step's entry (prompts × images per prompt)
     * @param heads  N
     * @param height the block's map height
     * @param width  the block's map width
     * @param keys   S
     * @param steps  the steps dumped, sorted
     */
    record Module(String name, boolean cross, int rows, int heads, int height, int width, int keys, List<Integer> steps) {
    }

    static AttentionDump of(RunsRoot root, Path dir, Manifest manifest, Catalog catalog) {
        Map<String, Module> modules = new LinkedHashMap<>();
        int[] latent = null;
        for (Catalog.TensorEntry t : catalog.tensors()) {
            if (!t.isAttention() || t.step() <= 0 || t.shape().length != 4 || t.latent() == null) {
                continue;
            }
            latent = t.latent();
            String name = t.module().substring(0, t.module().length() - ":probs".length());
            Module m = modules.get(name);
            if (m == null) {
                int[] hw = blockSize(t);
                long[] s = t.shape();
                m = new Module(name, s[3] != s[2], (int) s[0], (int) s[1], hw[0], hw[1], (int) s[3], new ArrayList<>());
                modules.put(name, m);
            }
            if (!m.steps().contains(t.step())) {
                m.steps().add(t.step());
            }
        }
        if (modules.isEmpty()) {
            throw ApiError.notFound("this run has no attention probabilities of a generation; dump them with extract"
                    + " --prompt … --at '…attn2:probs' (cross) or '…attn1:probs' (self)");
        }
        modules.values().forEach(m -> m.steps().sort(Integer::compare));
        return new AttentionDump(root, dir, manifest, catalog, Map.copyOf(modules), latent);
    }

    private static int[] blockSize(Catalog.TensorEntry t) {
        try {
            return AttentionProbs.blockSize(Math.toIntExact(t.shape()[2]), t.latent()[0], t.latent()[1]);
        } catch (IllegalArgumentException e) {
            throw ApiError.unreadable(t.file() + ": " + e.getMessage());
        }
    }

    /** The modules in dump order (the record's map is unordered). */
    List<Module> list() {
        List<Module> out = new ArrayList<>();
        for (Catalog.TensorEntry t : catalog.tensors()) {
            if (t.isAttention()) {
                Module m = modules.get(t.module().substring(0, t.module().length() - ":probs".length()));
                if (m != null && !out.contains(m)) {
                    out.add(m);
                }
            }
        }
        return out;
    }

    /** The module a parameter names, of the kind asked for; a 400 naming the parameter otherwise. */
    Module module(String param, String name, boolean cross) {
        Module m = modules.get(name.endsWith(":probs") ? name.substring(0, name.length() - 6) : name);
        if (m == null || m.cross() != cross) {
            throw ApiError.badParameter(param, "this run has no " + (cross ? "cross" : "self") + "-attention"
                    + " probabilities of '" + name + "'; it has " + String.join(", ", list().stream()
                    .filter(x -> x.cross() == cross).map(Module::name).toList()));
        }
        return m;
    }

    /** The tensor of a module at a step: the conditional half where dumped. */
    Catalog.TensorEntry entry(Module m, int step) {
        Catalog.TensorEntry e = catalog.find(m.name() + ":probs", step, null, "conditional");
        if (e == null) {
            e = catalog.find(m.name() + ":probs", step, null, null);
        }
        if (e == null) {
            throw ApiError.notFound("this run has no attention probabilities of '" + m.name() + "' at step " + step
                    + "; it has steps " + m.steps());
        }
        return e;
    }

    /** Row {@code row} of a module's probabilities at a step, [1, N, T, S]. */
    AttentionProbs probs(Module m, int step, int row) {
        Catalog.TensorEntry e = entry(m, step);
        long per = (long) m.heads() * m.height() * m.width() * m.keys();
        float[] v = TensorReader.read(file(e), e.entry(), e.shape(), row * per, per);
        return new AttentionProbs(v, 1, m.heads(), m.height() * m.width(), m.keys(), m.height(), m.width());
    }

    /**
     * Where query (qRow, qCol) of a self-attention looks, averaged over {@code heads}: reads only the query's row of
     * each head (what {@link AttentionProbs#selfMap} computes from the whole array).
     */
    Plane selfMap(Module m, int step, int row, int[] heads, int qRow, int qCol) {
        Params.check("y", qRow, 0, m.height() - 1);
        Params.check("x", qCol, 0, m.width() - 1);
        Catalog.TensorEntry e = entry(m, step);
        long t = (long) m.height() * m.width();
        double[] acc = new double[(int) t];
        for (int h : heads) {
            long first = ((row * (long) m.heads() + h) * t + (long) qRow * m.width() + qCol) * t;
            float[] r = TensorReader.read(file(e), e.entry(), e.shape(), first, t);
            for (int k = 0; k < r.length; k++) {
                acc[k] += r[k];
            }
        }
        float[] out = new float[acc.length];
        for (int k = 0; k < out.length; k++) {
            out[k] = (float) (acc[k] / heads.length);
        }
        return new Plane(out, m.height(), m.width());
    }

    MapLabel label(Module m, int step) {
        return new MapLabel(m.name(), step, entry(m, step).timestep());
    }

    /** The prompt row {@code row} of the dump read: the manifest's prompts by the entries' prompt_index. */
    String prompt(int row) {
        JsonNode prompts = manifest.json().path("request").path("prompts");
        Catalog.TensorEntry any = catalog.tensors().stream().filter(Catalog.TensorEntry::isAttention).findFirst()
                .orElseThrow();
        int index = any.info().path("prompt_index").path(row).asInt(row);
        return prompts.isArray() && index < prompts.size() ? prompts.get(index).asText("") : "";
    }

    /**
     * The token labels of row {@code row}'s prompt as CLIP's tokenizer writes them (the vocabulary is the same for
     * every SD model), as many as the cross-attention has keys.
     */
    List<String> tokenLabels(int row, int keys) {
        List<String> labels = ClipTokenizer.bundled("<|endoftext|>").encode(prompt(row)).tokenTexts();
        return labels.size() > keys ? labels.subList(0, keys) : labels;
    }

    /** The BPE tokens of a word, as {@link dev.unetlens.viz.attention.Tokens#indicesOf} looks for them. */
    static List<String> wordTokens(String word) {
        return ClipTokenizer.bundled("<|endoftext|>").bpeTokens(word);
    }

    /** The generated image of row {@code row} the manifest lists (image.png, image-NNN.png), or null. */
    String imageFile(int row) {
        for (String name : List.of(String.format("image-%03d.png", row), row == 0 ? "image.png" : "")) {
            if (!name.isEmpty() && manifest.file(name) != null && Files.isRegularFile(dir.resolve(name))) {
                return name;
            }
        }
        return null;
    }

    /** That image read, or null when the run has none. */
    RgbImage image(int row) {
        String name = imageFile(row);
        if (name == null) {
            return null;
        }
        try {
            return RgbImage.read(root.file(dir, name));
        } catch (ApiError e) {
            throw e;
        } catch (RuntimeException e) {
            throw ApiError.unreadable(name + ": " + dev.unetlens.Messages.line(String.valueOf(e.getMessage())));
        }
    }

    private Path file(Catalog.TensorEntry e) {
        return root.file(dir, e.file());
    }
}
