package dev.unetlens.cli.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.extract.ImageFeatures;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.RgbImage;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.synth.SyntheticModel.Component;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Feature extraction from an existing image, the researcher's loop: one {@code size}² image, VAE-encoded once, then
 * {@code samples} noise draws at timestep {@code t} in batches of {@code batchSize}, each batch one U-Net pass that
 * stops after {@code point}. Times every batch; then {@link #COMPARE_BATCHES} pairs, alternating, of two batches with
 * early exit and the same two through the whole U-Net, timing the second of each (the first also encodes the image).
 */
record ExtractCase(int size, String point, int timestep, int samples, int batchSize) implements BenchCase {
    /** Pairs of batches (early exit, whole U-Net) for the comparison. */
    static final int COMPARE_BATCHES = 3;
    /** The target: early exit at least this many times the samples per second of full forwards. */
    static final double TARGET_SPEEDUP = 2.0;

    @Override
    public String name() {
        return "extract_" + size + "_" + BenchCase.shortPoint(point) + "_t" + timestep;
    }

    @Override
    public String describe() {
        return "extraction of " + point + " from one " + size + "×" + size + " image at t = " + timestep + ", " + samples
                + " noise samples in batches of " + batchSize + ", early exit vs the whole U-Net";
    }

    @Override
    public Set<Component> components() {
        return EnumSet.allOf(Component.class);
    }

    @Override
    public Workload open(DiffusersFolder model, NDManager manager) {
        return SelfTimedWorkload.of(model, (sd, progress) -> ExtractCase.this.measure(sd, List.of(image(size)), progress));
    }

    private ObjectNode measure(StableDiffusion sd, List<RgbImage> image, Consumer<String> progress) {
        ImageFeatures early = new ImageFeatures(sd);
        ImageFeatures whole = early.withoutEarlyExit();
        early.run(image, options(batchSize), (i, p, k, v) -> { }, Progress.NONE);          // warm-up: one batch
        List<Double> batches = timeBatches(early, image, options(samples), progress, "early exit");
        double total = batches.stream().mapToDouble(Double::doubleValue).sum();
        // the comparison alternates the two on the same batch, so that drifting machine load hits both alike
        List<Double> pairedEarly = new ArrayList<>();
        List<Double> pairedWhole = new ArrayList<>();
        for (int i = 0; i < COMPARE_BATCHES; i++) {
            boolean wholeFirst = i % 2 == 0;
            for (int k = 0; k < 2; k++) {
                boolean w = wholeFirst == (k == 0);
                List<Double> two = timeBatches(w ? whole : early, image, options(2 * batchSize), progress,
                        "pair " + (i + 1) + "/" + COMPARE_BATCHES + (w ? ", whole U-Net" : ", early exit"));
                (w ? pairedWhole : pairedEarly).add(two.getLast());             // the first includes the encode
            }
        }
        double speedup = BenchChild.median(pairedWhole) / BenchChild.median(pairedEarly);
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("median_s", BenchChild.median(batches));
        r.put("median_is", "seconds per batch of " + batchSize + " samples with early exit");
        r.put("samples", samples);
        r.put("batch_size", batchSize);
        r.put("point", point);
        r.put("timestep", timestep);
        r.put("image", size + "x" + size);
        r.put("total_s", total);
        r.put("samples_per_s", samples / total);
        r.putPOJO("batches_s", batches);
        ObjectNode pairs = r.putObject("pairs");
        pairs.putPOJO("early_exit_s", pairedEarly);
        pairs.putPOJO("whole_unet_s", pairedWhole);
        r.put("whole_unet_samples_per_s", batchSize / BenchChild.median(pairedWhole));
        r.put("early_exit_speedup", speedup);
        r.put("early_exit_speedup_rule", "median batch time of the whole U-Net over that of early exit, over "
                + COMPARE_BATCHES + " alternating pairs; each member runs two batches and counts the second (the first"
                + " includes encoding the image)");
        r.put("target_speedup", TARGET_SPEEDUP);
        r.put("meets_targets", speedup >= TARGET_SPEEDUP);
        r.put("summary", String.format(Locale.ROOT, "%.2f samples/s (%d in %.0f s, batches of %d), whole U-Net %.2f"
                + " samples/s: early exit %.2f× (target ≥ %.1f×)", samples / total, samples, total, batchSize,
                batchSize / BenchChild.median(pairedWhole), speedup, TARGET_SPEEDUP));
        return r;
    }

    private ImageFeatures.Options options(int n) {
        return new ImageFeatures.Options(List.of(point), timestep, n, batchSize, INPUT_SEED, "",
                ImageFeatures.Latent.MEAN, false, false);
    }

    /** Seconds of each batch, from one batch's end (as the sink sees it) to the next. */
    private List<Double> timeBatches(ImageFeatures f, List<RgbImage> image, ImageFeatures.Options o,
                                     Consumer<String> progress, String what) {
        List<Double> times = new ArrayList<>();
        long[] last = {0};
        Progress p = new Progress() {
            public void start(String phase, long total) {
                last[0] = System.nanoTime();
            }

            public void advance(long done, String detail) {
                long now = System.nanoTime();
                times.add((now - last[0]) / 1e9);
                last[0] = now;
                progress.accept(String.format(Locale.ROOT, "%s: %d/%d samples, batch %.2f s", what, done, o.samples(), times.getLast()));
            }

            public void finish() {
            }
        };
        f.run(image, o, (i, pt, k, v) -> { }, p);                            // batch 1 includes encoding the image
        return times;
    }

    /** A deterministic test picture: smooth colour gradients with seeded noise. */
    static RgbImage image(int size) {
        byte[] rgb = new byte[size * size * 3];
        SplittableRandom r = new SplittableRandom(INPUT_SEED);
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int i = 3 * (y * size + x);
                rgb[i] = (byte) Math.clamp(255L * x / size + r.nextInt(-20, 21), 0, 255);
                rgb[i + 1] = (byte) Math.clamp(255L * y / size + r.nextInt(-20, 21), 0, 255);
                rgb[i + 2] = (byte) Math.clamp(128 + r.nextInt(-40, 41), 0, 255);
            }
        }
        return new RgbImage(size, size, rgb);
    }
}
