package dev.unetlens.extract;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.hook.BlockNames;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.Component;
import dev.unetlens.hook.ModulePath;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.model.ForwardContext.Branch;
import dev.unetlens.model.ForwardContext.RowLabel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Writes extracted tensors as self-describing files: {@code .npy} per tensor, or one {@code .npz} /
 * {@code .safetensors} per group, float32 or float16, each listed in {@code manifest.json} with its module, WebUI
 * block name, step and timestep or noise samples, CFG branch, shape and dtype. Files are spooled to disk as
 * tensors arrive ({@link Spool}), so memory stays bounded.
 *
 * <p>Names: a tensor is named after its hook point ({@code down_blocks.1.attentions.1}, {@code …attn2-probs},
 * {@code vae-decoder.up_blocks.0}: a component's qualified name with {@code -} for {@code :}); during a generation
 * {@code <point>/step-007} (or {@code step-007-uncond}), a text encoder's or the VAE's outputs, computed once outside
 * the steps, {@code <point>} (or {@code <point>-uncond}); for images {@code <image>/<point>}.
 */
public final class Dumps implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final OutputDirectory out;
    private final Spool spool;
    private final Spool.Format format;
    private final BlockNames blocks;
    private final Map<String, String> metadata;
    private final Map<String, Spool.Tensor> tensors = new LinkedHashMap<>();
    private final List<String> pendingFiles = new ArrayList<>();
    private final Map<String, Integer> entriesSeen = new java.util.HashMap<>();
    private final Map<String, List<String>> imageFiles = new java.util.HashMap<>();
    private BiFunction<Component, RowLabel, String> texts = (c, row) -> null;
    private int written;

    public Dumps(OutputDirectory out, Spool.Format format, boolean half, BlockNames blocks, Map<String, String> metadata) {
        this.out = out;
        this.spool = new Spool(out, half);
        this.format = format;
        this.blocks = blocks;
        this.metadata = Map.copyOf(metadata);
    }

    /**
     * Names the text a text encoder's row read ({@code (component, row) → text}, null if unknown), recorded with its
     * captures as {@code texts} so that pictures can label the tokens.
     */
    public Dumps withTexts(BiFunction<Component, RowLabel, String> texts) {
        this.texts = texts;
        return this;
    }

    /** How many files have been written. */
    public int filesWritten() {
        return written;
    }

    static String fileSafe(String point) {
        return point.replace(':', '-');
    }

    /**
     * A capture during a generation (1-based {@code step}, 0 for a text encoder's or the VAE's forward outside the
     * steps): the rows of each CFG branch kept, as separate tensors (the unconditional one named {@code -uncond}); a
     * forward outside the steps that runs again (a per-block prompt's text) is numbered {@code -2}, {@code -3};
     * {@code latent} = the latent's [h, w] (for readers that need to know a U-Net block's grid, e.g. attention maps).
     */
    public void generation(Capture c, int step, Set<Branch> branches, int[] latent) {
        ModulePath path = ModulePath.parse(c.point());
        for (Branch b : branches) {
            int[] idx = rowsOf(c.rows(), b, c.value().getShape().get(0));
            if (idx.length == 0) {
                continue;
            }
            // a CFG batch is [uncond…, cond…], so one branch's rows are contiguous
            NDArray v = idx.length == c.value().getShape().get(0) ? c.value()
                    : c.value().get(idx[0] + ":" + (idx[idx.length - 1] + 1));
            String entry = fileSafe(c.point()) + (step > 0 ? "/step-" + String.format("%03d", step) : "")
                    + (b == Branch.UNCOND ? "-uncond" : "");
            int seen = entriesSeen.merge(entry, 1, Integer::sum);
            entry += seen > 1 ? "-" + seen : "";
            String file = format == Spool.Format.NPY ? entry + ".npy" : "features" + format.extension();
            ObjectNode info = describe(c.point());
            if (step > 0) {
                info.put("step", step);
                info.put("timestep", c.timestep());
            }
            info.put("cfg_branch", b == Branch.COND ? "conditional" : "unconditional");
            if (path.component() == Component.UNET) {
                info.putArray("latent").add(latent[0]).add(latent[1]);
            }
            var prompts = info.putArray("prompt_index");
            List<String> rowTexts = new ArrayList<>();
            for (int i : idx) {
                RowLabel row = c.rows().isEmpty() ? new RowLabel(b, 0, 0) : c.rows().get(i);
                prompts.add(row.prompt());
                rowTexts.add(path.component().isText() ? texts.apply(path.component(), row) : null);
            }
            if (rowTexts.stream().anyMatch(java.util.Objects::nonNull)) {
                rowTexts.forEach(info.putArray("texts")::add);
            }
            Spool.Tensor t = spool.open(file, entry, v.getShape().getShape(), info);
            t.append(v);
            if (format == Spool.Format.NPY) {
                commit(file);
            } else if (!pendingFiles.contains(file)) {
                pendingFiles.add(file);
            }
        }
    }

    /**
     * A batch of noise samples [first, first + rows) of one point for image {@code image} named {@code imageName}; for
     * the VAE's points, the one encoding of the image ({@code totalSamples} 1).
     */
    public void image(String imageName, int image, String point, int first, NDArray value, int totalSamples, int[] latent) {
        String entry = fileSafe(point);
        Component component = ModulePath.parse(point).component();
        String archive = component == Component.UNET ? imageName : imageName + "-" + component;   // written apart
        String file = format == Spool.Format.NPY ? imageName + "/" + entry + ".npy" : archive + format.extension();
        String key = file + "\u0000" + entry;
        Spool.Tensor t = tensors.get(key);
        if (t == null) {
            long[] shape = value.getShape().getShape().clone();
            shape[0] = totalSamples;
            ObjectNode info = describe(point);
            info.put("image", imageName);
            info.put("image_index", image);
            if (component == Component.UNET) {
                info.put("noise_samples", totalSamples);
                info.putArray("latent").add(latent[0]).add(latent[1]);
            }
            t = spool.open(file, entry, shape, info);
            tensors.put(key, t);
            if (!pendingFiles.contains(file)) {
                pendingFiles.add(file);
                imageFiles.computeIfAbsent(imageName, k -> new ArrayList<>()).add(file);
            }
        }
        t.append(value);
    }

    /** Writes every file of image {@code imageName} (all its tensors are complete). */
    public void finishImage(String imageName) {
        for (String f : imageFiles.getOrDefault(imageName, List.of())) {
            if (pendingFiles.contains(f)) {
                commit(f);
                pendingFiles.remove(f);
                tensors.keySet().removeIf(k -> k.startsWith(f + "\u0000"));
            }
        }
    }

    /** Writes the files still pending (the npz / safetensors archive of a generation). */
    public void finish() {
        for (String f : List.copyOf(pendingFiles)) {
            commit(f);
        }
        pendingFiles.clear();
    }

    private void commit(String file) {
        spool.commit(file, format, metadata, e -> { });
        written++;
    }

    private ObjectNode describe(String point) {
        ObjectNode info = JSON.createObjectNode();
        ModulePath path = ModulePath.parse(point);
        info.put("module", point);
        info.put("component", path.component().cliName());
        if (path.component() == Component.UNET) {
            blocks.blockName(path.module()).ifPresent(b -> info.put("block", b));
        }
        return info;
    }

    /** The rows of branch b; an unlabelled batch counts as conditional. */
    private static int[] rowsOf(List<RowLabel> rows, Branch b, long n) {
        if (rows.isEmpty() || rows.size() != n) {
            return b == Branch.COND ? java.util.stream.IntStream.range(0, (int) n).toArray() : new int[0];
        }
        return java.util.stream.IntStream.range(0, rows.size()).filter(i -> rows.get(i).branch() == b).toArray();
    }

    @Override
    public void close() {
        spool.close();
    }

    OutputDirectory out() {
        return out;
    }
}
