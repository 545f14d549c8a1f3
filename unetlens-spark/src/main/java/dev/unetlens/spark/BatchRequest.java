package dev.unetlens.spark;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.images.Preprocess;
import dev.unetlens.analysis.paper.PaperRun;
import dev.unetlens.analysis.paper.PositionProbe;
import dev.unetlens.extract.ImageFeatures;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;

/**
 * Everything an executor needs to turn one image into table rows, sent with each task (so plain values only).
 *
 * @param model          the model path, as every executor reads it (shared storage on a cluster)
 * @param modelHash      SHA-256 over the weight files' SHA-256s: an executor refuses a model that hashes otherwise
 * @param modules        canonical module names
 * @param timesteps      the noise levels t, in the order given
 * @param samples        noise draws per image and timestep (draw k from the image's seed + k, as analyze)
 * @param seed           the base seed
 * @param seedFromPath   each image's seed derived from the base seed and its path ({@link #seedFor}); else the base
 *                       seed for every image, as {@code analyze}
 * @param prompt         the text the U-Net reads where the input has no prompt column (default "")
 * @param latent         VAE posterior mean or sample
 * @param unitRange      pixels in [0, 1] (sdhelper) instead of [−1, 1]
 * @param resize         shorter side to this, or null
 * @param crop           centre-crop to a square
 * @param paperMin       the paper's preparation: skip under this shorter side, or null
 * @param prepSize       the paper's preparation: the square's side
 * @param reference      the module the anomaly labels are taken at (the patches detected there)
 * @param k              the anomaly detector's threshold (robust σ)
 * @param spatialMean    keep each map's spatial mean per channel (pooled features)
 * @param tensors        folder the full maps go to as float16 safetensors, or null
 * @param probe          keep every token of draw 0 at the first timestep (the tokens table) for the positional probe
 * @param threadsPerTask libtorch threads an executor computes with per task
 */
public record BatchRequest(String model, String modelHash, List<String> modules, List<Integer> timesteps,
                           int samples, long seed,
                           boolean seedFromPath, String prompt, String latent, boolean unitRange, Integer resize,
                           boolean crop, Integer paperMin, int prepSize, String reference, double k,
                           boolean spatialMean, String tensors, boolean probe, int threadsPerTask) implements Serializable {
    public BatchRequest {
        modules = List.copyOf(modules);
        timesteps = List.copyOf(timesteps);
    }

    /**
     * The seed of the image at {@code path}: the base seed, or (seed from path) the first 63 bits of
     * SHA-256("seed:path") read big-endian; independent of partitions, executors and order.
     */
    public long seedFor(String path) {
        if (!seedFromPath) {
            return seed;
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest((seed + ":" + path).getBytes(StandardCharsets.UTF_8));
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = v << 8 | (h[i] & 0xff);
            }
            return v & Long.MAX_VALUE;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One image's sampling: its seed and prompt, every draw at every timestep, at every module, one draw a forward. */
    public Sampling sampling(long imageSeed, String imagePrompt) {
        return new Sampling(modules, timesteps, samples, 1, imageSeed, imagePrompt == null ? prompt : imagePrompt,
                ImageFeatures.Latent.valueOf(latent), unitRange);
    }

    /**
     * The paper's options for draw {@code draw} of one image at {@code timestep} (groups and anomalies; the group limit
     * does not apply per image): the paper's one draw, from the seed that draw uses.
     */
    public PaperRun.Options paper(Sampling image, int timestep, int draw) {
        Sampling one = new Sampling(image.points(), List.of(timestep), 1, 1, image.seed() + draw, image.prompt(),
                image.latent(), image.unitRange());
        return new PaperRun.Options(one, EnumSet.of(PaperRun.Experiment.GROUPS, PaperRun.Experiment.ANOMALIES), reference, k,
                null, Integer.MAX_VALUE, PositionProbe.Settings.PAPER);
    }

    public Preprocess preprocess() {
        return new Preprocess(resize, crop, paperMin == null ? null : new Preprocess.Paper(paperMin, prepSize));
    }

    /** How the request is recorded in the manifest. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("model", model);
        o.put("model_hash", modelHash);
        o.set("modules", o.arrayNode().addAll(modules.stream().map(o::textNode).toList()));
        o.set("timesteps", o.arrayNode().addAll(timesteps.stream().map(o::numberNode).toList()));
        o.put("samples", samples);
        o.put("seed", seed);
        o.put("seeds", seedFromPath ? "per image: the first 63 bits of SHA-256(\"<seed>:<path>\"), big-endian; draw k:"
                + " torch manual_seed(image seed + k)" : "every image: the base seed (as analyze)");
        o.put("prompt", prompt);
        o.put("latent", latent.toLowerCase(Locale.ROOT));
        o.put("pixel_range", unitRange ? "[0, 1]" : "[-1, 1]");
        if (resize != null) {
            o.put("resize", resize);
        }
        o.put("crop", crop);
        if (paperMin != null) {
            o.put("paper_prep", paperMin).put("prep_size", prepSize);
        }
        o.put("anomaly_reference", reference);
        o.put("k", k);
        o.put("spatial_mean", spatialMean);
        o.put("tensors", tensors != null);
        o.put("probe", probe);
        o.put("threads_per_task", threadsPerTask);
        return o;
    }
}
