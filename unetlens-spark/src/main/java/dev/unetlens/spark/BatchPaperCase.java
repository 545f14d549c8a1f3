package dev.unetlens.spark;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.analysis.paper.AnomalyDetector;
import dev.unetlens.analysis.paper.PaperRun;
import dev.unetlens.analysis.paper.PositionProbe;
import dev.unetlens.cli.bench.BenchCase;
import dev.unetlens.cli.bench.ProcStatus;
import dev.unetlens.extract.ImageFeatures;
import dev.unetlens.hook.PaperModules;
import dev.unetlens.io.AtomicFiles;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.RgbImage;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.synth.SyntheticModel.Component;
import ai.djl.ndarray.NDManager;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * bench case {@code batch_paper_40mod}: {@code batch} on 8 images of 512² at every {@code --at paper} module, in
 * local[1] and local[2], beside {@code analyze paper}'s groups and anomalies (the same per-image work) on the same images
 * in this JVM: images per minute of each, Spark's overhead at equal cores (local[1] vs analyze), and the peak RSS (driver
 * and executor are this JVM in local mode). Models are loaded before the clocks start (one per task slot).
 */
public final class BatchPaperCase implements BenchCase {
    /** The 8 images; {@code -Dunetlens.bench.batchImages=N} runs fewer (a quick look, not the case). */
    private static final int IMAGES = Integer.getInteger("unetlens.bench.batchImages", 8);
    private static final int SIZE = 512;

    @Override
    public String name() {
        return "batch_paper_40mod";
    }

    @Override
    public String describe() {
        return "batch (Spark local[1], local[2]) vs analyze paper groups+anomalies in one JVM: " + IMAGES + " " + SIZE + "²"
                + " images at t = 50, every --at paper module";
    }

    @Override
    public Set<Component> components() {
        return EnumSet.allOf(Component.class);
    }

    @Override
    public Workload open(DiffusersFolder model, NDManager manager) {
        return SelfTimedWorkload.of(model, (sd, progress) -> measure(sd, model.root(), progress));
    }

    private ObjectNode measure(StableDiffusion sd, Path model, Consumer<String> progress) {
        Path dir = tempDir();
        List<RgbImage> images = images(dir.resolve("images"));
        List<String> points = PaperModules.of(sd.unet().hooks());
        String ref = PaperModules.reference(sd.unet().hooks()).orElse(points.get(points.size() / 2));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ProcStatus.resetPeakRss();
        long t0 = System.nanoTime();
        Sampling s = new Sampling(points, List.of(PaperRun.TIMESTEP), 1, 1, PaperRun.SEED, "", ImageFeatures.Latent.SAMPLE, false);
        PaperRun.of(sd, ImageSet.of(images, images.stream().map(x -> "bench").toList()), new PaperRun.Options(s,
                EnumSet.of(PaperRun.Experiment.GROUPS, PaperRun.Experiment.ANOMALIES), ref, AnomalyDetector.DEFAULT_K, null,
                PaperRun.GROUP_LIMIT, PositionProbe.Settings.PAPER), Progress.NONE);
        double analyze = (System.nanoTime() - t0) / 1e9;
        out.put("analyze_images_per_min", 60 * IMAGES / analyze).put("analyze_peak_rss_mb", ProcStatus.peakRssMb());
        progress.accept(String.format(Locale.ROOT, "analyze paper (groups, anomalies): %.1f s", analyze));
        String hash = ModelPool.hash(sd);
        int cores = Runtime.getRuntime().availableProcessors();
        List<ImageInput> inputs = new ArrayList<>();
        for (int i = 0; i < IMAGES; i++) {
            inputs.add(new ImageInput(dir.resolve("images/img" + i + ".png").toString(), null, null));
        }
        for (int tasks : new int[] {1, 2}) {
            BatchRequest r = new BatchRequest(model.toAbsolutePath().toString(), hash, points, List.of(PaperRun.TIMESTEP), 1,
                    PaperRun.SEED, false, "", "SAMPLE", false, null, false, null, 512, ref, AnomalyDetector.DEFAULT_K, false, null,
                    false, Math.max(1, cores / tasks));                           // as batch sets local[N]: the cores shared
            double secs = batch(r, inputs, dir.resolve("out" + tasks), tasks);
            String k = "local" + tasks;
            out.put(k + "_images_per_min", 60 * IMAGES / secs).put(k + "_peak_rss_mb", ProcStatus.peakRssMb());
            progress.accept(String.format(Locale.ROOT, "batch local[%d]: %.1f s", tasks, secs));
        }
        out.put("median_s", analyze);
        out.put("median_is", "seconds of analyze paper (groups, anomalies) on " + IMAGES + " images (one run)");
        out.put("modules", points.size());
        out.put("images", IMAGES);
        out.put("threads_per_task", "local[1]: " + Math.max(1, cores) + ", local[2]: " + Math.max(1, cores / 2));
        double overhead = out.path("analyze_images_per_min").asDouble() / out.path("local1_images_per_min").asDouble() - 1;
        out.put("spark_overhead_local1", overhead);
        out.put("summary", String.format(Locale.ROOT, "analyze %.2f images/min; batch local[1] %.2f (overhead %+.1f %%),"
                        + " local[2] %.2f images/min; the JVM's peak RSS after analyze %.0f MB, local[1] %.0f, local[2] %.0f"
                        + " (each phase adds its models)", out.path("analyze_images_per_min").asDouble(),
                out.path("local1_images_per_min").asDouble(), 100 * overhead, out.path("local2_images_per_min").asDouble(),
                out.path("analyze_peak_rss_mb").asDouble(), out.path("local1_peak_rss_mb").asDouble(),
                out.path("local2_peak_rss_mb").asDouble()));
        return out;
    }

    /** Seconds of one batch run in local[tasks], its models loaded first (one per task slot). */
    private static double batch(BatchRequest r, List<ImageInput> inputs, Path out, int tasks) {
        List<ModelPool.Lease> warm = new ArrayList<>();
        for (int i = 0; i < tasks; i++) {
            warm.add(ModelPool.borrow(r.model(), r.modelHash(), StableDiffusion.Options.DEFAULT, 0));
        }
        warm.forEach(ModelPool.Lease::close);
        SparkSession spark = BatchSpark.session("local[" + tasks + "]");
        try {
            ProcStatus.resetPeakRss();
            long t0 = System.nanoTime();
            BatchJob.run(spark, r, inputs, out.resolve("tables"), new BatchJob.Settings(tasks, IMAGES, -1));
            return (System.nanoTime() - t0) / 1e9;
        } finally {
            spark.stop();
        }
    }

    private static List<RgbImage> images(Path folder) {
        List<RgbImage> out = new ArrayList<>();
        for (int i = 0; i < IMAGES; i++) {
            byte[] px = new byte[SIZE * SIZE * 3];
            for (int k = 0; k < px.length; k++) {
                px[k] = (byte) ((k / 3 % SIZE) + (k / 3 / SIZE) * (i + 1) + 53 * i * (k % 3));
            }
            RgbImage img = new RgbImage(SIZE, SIZE, px);
            AtomicFiles.write(folder.resolve("img" + i + ".png"), o -> img.writePng(o, Map.of()));
            out.add(img);
        }
        return out;
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("unetlens-bench-batch");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
