package dev.unetlens.extract;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.UnetlensException;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.HookScope;
import dev.unetlens.io.RgbImage;
import dev.unetlens.model.ForwardContext;
import dev.unetlens.model.ForwardContext.Branch;
import dev.unetlens.model.ForwardContext.RowLabel;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.unet.StopAfter;
import dev.unetlens.model.unet.UNetInput;
import dev.unetlens.model.vae.DiagonalGaussian;
import dev.unetlens.pipeline.Conditioning;
import dev.unetlens.pipeline.ImageProcessor;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.pipeline.TimeIds;
import dev.unetlens.rng.TorchGenerator;
import dev.unetlens.schedule.NoiseSchedule;
import dev.unetlens.schedule.SchedulerConfig;
import dev.unetlens.schedule.SchedulerKind;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The representation of existing images at a chosen timestep (sdhelper's {@code img2repr}): encode each image
 * with the VAE, noise the latent to timestep t with the DDPM formula x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε, and run the U-Net
 * once, stopping after the deepest requested module.
 *
 * <ul>
 *   <li>Noise sample k of every image draws from its own generator {@code manual_seed(seed + k)}: first the VAE
 *       posterior's ε (when sampling the latent rather than taking the mean), then the noise ε. Results therefore do
 *       not depend on how samples are batched.</li>
 *   <li>Pixels are mapped to [−1, 1] as the SD pipelines do (sdhelper feeds [0, 1]; see {@link Options#unitRange}).</li>
 *   <li>The U-Net gets x_t unscaled (the DDPM view of an ε- or v-model), the prompt's encoding (default: the empty
 *       prompt) and, for SDXL, the pooled embeds and default time ids of the image size.</li>
 * </ul>
 */
public final class ImageFeatures {
    private final StableDiffusion sd;
    private final boolean earlyExit;

    /** Whether the latent is the posterior's mean or a sample of it. */
    public enum Latent { MEAN, SAMPLE }

    /**
     * @param points     hook points to extract (canonical names)
     * @param timestep   t in [0, 999]
     * @param samples    noise samples per image
     * @param batchSize  samples per U-Net forward
     * @param seed       base seed; sample k uses seed + k
     * @param prompt     text condition ("" by default)
     * @param latent     mean or sample of the VAE posterior
     * @param unitRange  feed pixels in [0, 1] like sdhelper instead of the pipelines' [−1, 1]
     * @param spatialMean average each map over its positions (shape (N, C))
     */
    public record Options(List<String> points, int timestep, int samples, int batchSize, long seed, String prompt,
                          Latent latent, boolean unitRange, boolean spatialMean) {
        public Options {
            points = List.copyOf(points);
            if (points.isEmpty()) {
                throw new UnetlensException("name at least one module to extract (--at)");
            }
            if (timestep < 0 || timestep > 999) {
                throw new UnetlensException("--timestep must be in [0, 999], got " + timestep);
            }
            if (samples < 1) {
                throw new UnetlensException("--samples must be ≥ 1, got " + samples);
            }
            if (batchSize < 1) {
                throw new UnetlensException("--batch-size must be ≥ 1, got " + batchSize);
            }
            if (prompt == null) {
                prompt = "";
            }
        }

        /** The same options at another timestep (checked like the first). */
        public Options atTimestep(int t) {
            return new Options(points, t, samples, batchSize, seed, prompt, latent, unitRange, spatialMean);
        }
    }

    /** Receives each batch's tensor of a point: rows are samples {@code first .. first + value.rows − 1}. */
    @FunctionalInterface
    public interface Sink {
        void accept(int image, String point, int first, NDArray value);
    }

    /**
     * One point's tensor of one U-Net batch: noise samples {@code first .. first + rows − 1} of image {@code image}
     * at {@code timestep}; {@code value} [rows, …] is valid only during {@link BatchSink#accept}.
     */
    public record Batch(int image, int timestep, String point, int first, NDArray value) {
    }

    /**
     * Receives batches as they stream out of the U-Net, and is told when every sample of an image at a timestep
     * has been delivered, so that a statistic over the samples can be finished and its state dropped: memory then
     * grows with neither the images nor the samples.
     */
    public interface BatchSink {
        void accept(Batch batch);

        /** All samples of {@code image} at {@code timestep} have been delivered. */
        default void samplesDone(int image, int timestep) {
        }
    }

    public ImageFeatures(StableDiffusion sd) {
        this(sd, true);
    }

    private ImageFeatures(StableDiffusion sd, boolean earlyExit) {
        this.sd = sd;
        this.earlyExit = earlyExit;
    }

    /** The same extraction running the whole U-Net every time: what early exit saves ({@code bench}). */
    public ImageFeatures withoutEarlyExit() {
        return new ImageFeatures(sd, false);
    }

    /** Extracts from each image in turn, streaming every batch to {@code sink}. */
    public void run(List<RgbImage> images, Options o, Sink sink, Progress progress) {
        stream(images, o, List.of(o.timestep()), b -> sink.accept(b.image(), b.point(), b.first(), b.value()), progress);
    }

    /**
     * Extracts from each image at each of {@code timesteps} (the options' own timestep is not used), streaming every
     * batch to {@code sink}: each image is encoded once, then for each timestep its samples run in batches. Sample k
     * draws from {@code manual_seed(seed + k)} at every timestep, so each timestep gives exactly what a run with only
     * that timestep gives. Each image is asked of {@code images} once, when its turn comes: a list that reads files on
     * demand keeps one image in memory at a time.
     */
    public void stream(List<RgbImage> images, Options o, List<Integer> timesteps, BatchSink sink, Progress progress) {
        if (timesteps.isEmpty()) {
            throw new UnetlensException("name at least one timestep");
        }
        List<Options> perTimestep = timesteps.stream().map(o::atTimestep).toList();
        NoiseSchedule schedule = SchedulerConfig.parse(sd.schedulerConfig(), SchedulerKind.DDIM, Map.of()).noise();
        StopAfter stop = earlyExit ? sd.unet().stopAfter(o.points()) : StopAfter.END;
        progress.start("extracting", (long) images.size() * perTimestep.size() * o.samples());
        long done = 0;
        for (int i = 0; i < images.size(); i++) {
            RgbImage img = images.get(i);
            if (img.width() % 8 != 0 || img.height() % 8 != 0) {
                throw new UnetlensException("image " + (i + 1) + " is " + img.width() + "×" + img.height()
                        + "; sides must be multiples of 8 (use --resize or --crop)");
            }
            try (NDManager m = sd.manager().newSubManager()) {
                DiagonalGaussian posterior = encode(m, img, o);
                Conditioning cond = conditioning(m, o, img);
                for (Options ot : perTimestep) {
                    for (int k0 = 0; k0 < o.samples(); k0 += o.batchSize()) {
                        int b = Math.min(o.batchSize(), o.samples() - k0);
                        try (ForwardScope scope = new ForwardScope()) {
                            runBatch(m, i, k0, b, posterior, cond, schedule, stop, ot, sink);
                        }
                        done += b;
                        progress.advance(done, "image " + (i + 1) + "/" + images.size()
                                + (perTimestep.size() > 1 ? " t = " + ot.timestep() : "")
                                + " samples " + (k0 + 1) + "–" + (k0 + b));
                    }
                    sink.samplesDone(i, ot.timestep());
                }
            }
        }
        progress.finish();
    }

    private DiagonalGaussian encode(NDManager m, RgbImage img, Options o) {
        NDArray pixels = ImageProcessor.toTensor(m, List.of(img));                 // [1, 3, H, W] in [−1, 1]
        if (o.unitRange()) {
            pixels = pixels.add(1f).div(2f);                                       // sdhelper: [0, 1]
        }
        DiagonalGaussian p = sd.vae().encode(pixels);
        return new DiagonalGaussian(ForwardScope.detach(p.mean()), ForwardScope.detach(p.logvar()), ForwardScope.detach(p.std()));
    }

    private Conditioning conditioning(NDManager m, Options o, RgbImage img) {
        Conditioning c = sd.prompts().encode(m, List.of(o.prompt()), null, 0);
        return new Conditioning(ForwardScope.detach(c.promptEmbeds()), c.pooled() == null ? null : ForwardScope.detach(c.pooled()));
    }

    private void runBatch(NDManager m, int image, int k0, int b, DiagonalGaussian posterior, Conditioning cond,
                          NoiseSchedule schedule, StopAfter stop, Options o, BatchSink sink) {
        Shape latentShape = posterior.mean().getShape();                         // [1, L, h, w]
        NDList xs = new NDList();
        List<RowLabel> rows = new ArrayList<>();
        for (int k = k0; k < k0 + b; k++) {
            TorchGenerator g = new TorchGenerator(o.seed() + k);
            NDArray z = o.latent() == Latent.SAMPLE ? posterior.sample(g.randn(m, latentShape)) : posterior.mean();
            NDArray x0 = z.mul(sd.vae().scalingFactor());
            xs.add(schedule.addNoise(x0, g.randn(m, latentShape), o.timestep()));
            rows.add(new RowLabel(Branch.COND, image, k));
        }
        NDArray x = ai.djl.ndarray.NDArrays.concat(xs, 0);                        // [b, L, h, w]
        UNetInput in = UNetInput.of(x, o.timestep(), cond.promptEmbeds().repeat(0, b));
        if (cond.pooled() != null) {
            long h = latentShape.get(2) * sd.vae().downscale();
            long w = latentShape.get(3) * sd.vae().downscale();
            float[] ids = TimeIds.defaults((int) h, (int) w).values();
            NDArray t = m.create(ids, new Shape(1, ids.length)).repeat(0, b);
            in = in.withAddedCond(cond.pooled().repeat(0, b), t);
        }
        sd.unet().hooks().setContext(new ForwardContext(-1, o.timestep(), rows));
        try (HookScope hooks = HookScope.open(sd.unet().hooks())) {
            hooks.capture(o.points(), Capture.Rows.ALL, c -> {
                NDArray v = o.spatialMean() && c.value().getShape().dimension() == 4 ? c.value().mean(new int[] {3}).mean(new int[] {2}) : c.value();
                sink.accept(new Batch(image, o.timestep(), c.point(), k0, v));
            });
            sd.unet().forward(in, stop);
        } finally {
            sd.unet().hooks().setContext(ForwardContext.NONE);
        }
    }

    /** Runs in memory and returns, per point, the representation of each image: (samples, C, H, W). */
    public List<Map<String, Representation>> collect(List<RgbImage> images, Options o) {
        List<Map<String, List<float[]>>> parts = new ArrayList<>();
        List<Map<String, long[]>> shapes = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            parts.add(new java.util.LinkedHashMap<>());
            shapes.add(new java.util.HashMap<>());
        }
        run(images, o, (image, point, first, value) -> {
            parts.get(image).computeIfAbsent(point, k -> new ArrayList<>()).add(value.toFloatArray());
            shapes.get(image).put(point, value.getShape().getShape());
        }, Progress.NONE);
        List<Map<String, Representation>> out = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            Map<String, Representation> m = new java.util.LinkedHashMap<>();
            for (var e : parts.get(i).entrySet()) {
                long[] s = shapes.get(i).get(e.getKey()).clone();
                s[0] = o.samples();
                int per = (int) (dev.unetlens.io.NpyArray.elementCount(s) / s[0]);   // values per sample
                float[] all = new float[o.samples() * per];
                int at = 0;
                for (float[] part : e.getValue()) {
                    System.arraycopy(part, 0, all, at, part.length);
                    at += part.length;
                }
                m.put(e.getKey(), new Representation(e.getKey(), s, all, false));
            }
            out.add(m);
        }
        return out;
    }
}
