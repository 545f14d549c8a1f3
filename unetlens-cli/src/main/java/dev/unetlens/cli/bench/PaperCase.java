package dev.unetlens.cli.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.analysis.paper.PaperRun;
import dev.unetlens.analysis.paper.PositionProbe;
import dev.unetlens.extract.ImageFeatures;
import dev.unetlens.hook.PaperModules;
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
import java.util.function.Consumer;

/**
 * {@code analyze paper} on {@code images} {@code size}² images at t = {@code timestep} at every module of {@code --at
 * paper} (46 for SD 1.5): all three experiments, the image-cropped pass included; beside it the extraction as the
 * paper's script does it (sdhelper's img2repr: one whole U-Net forward per image with every module captured and
 * copied out). Images per minute and the peak RSS of each (the high-water mark reset between them).
 */
record PaperCase(int size, int images, int timestep) implements BenchCase {
    @Override
    public String name() {
        return "paper_" + size + "_t" + timestep;
    }

    @Override
    public String describe() {
        return "analyze paper (probe, groups with the cropped pass, anomalies) on " + images + " " + size + "×" + size
                + " images at t = " + timestep + ", every --at paper module; beside it one whole forward per image with"
                + " every module captured, as the paper's script extracts";
    }

    @Override
    public Set<Component> components() {
        return EnumSet.allOf(Component.class);
    }

    @Override
    public Workload open(DiffusersFolder model, NDManager manager) {
        return SelfTimedWorkload.of(model, this::measure);
    }

    private List<RgbImage> inputs() {
        List<RgbImage> out = new ArrayList<>();
        RgbImage base = ExtractCase.image(size);
        for (int i = 0; i < images; i++) {
            byte[] px = base.rgb().clone();
            for (int k = 0; k < px.length; k++) {
                px[k] = (byte) (px[k] + 53 * i);
            }
            out.add(new RgbImage(size, size, px));
        }
        return out;
    }

    private ObjectNode measure(StableDiffusion sd, Consumer<String> progress) {
        List<String> points = PaperModules.of(sd.unet().hooks());
        List<RgbImage> in = inputs();
        Sampling s = new Sampling(points, List.of(timestep), 1, 1, PaperRun.SEED, "", ImageFeatures.Latent.SAMPLE, false);
        ProcStatus.resetPeakRss();
        long t0 = System.nanoTime();
        long[] floats = {0};
        new ImageFeatures(sd).withoutEarlyExit().stream(in, s.options(), s.timesteps(),
                b -> floats[0] += b.value().toFloatArray().length, report(progress, "paper-style extraction"));
        double extractS = (System.nanoTime() - t0) / 1e9;
        double extractPeak = ProcStatus.peakRssMb();
        boolean reset = ProcStatus.resetPeakRss();
        String reference = PaperModules.reference(sd.unet().hooks()).orElse(points.get(points.size() / 2));
        PaperRun.Options o = new PaperRun.Options(s, EnumSet.allOf(PaperRun.Experiment.class), reference,
                dev.unetlens.analysis.paper.AnomalyDetector.DEFAULT_K, null, PaperRun.GROUP_LIMIT, PositionProbe.Settings.PAPER);
        long t1 = System.nanoTime();
        PaperRun.Result r = PaperRun.of(sd, ImageSet.of(in, in.stream().map(x -> "bench").toList()), o,
                report(progress, "analyze paper"));
        double paperS = (System.nanoTime() - t1) / 1e9;
        double paperPeak = ProcStatus.peakRssMb();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("median_s", paperS);
        out.put("median_is", "seconds of analyze paper on " + images + " images (one run)");
        out.put("modules", points.size());
        out.put("images", images);
        out.put("image", size + "x" + size);
        out.put("timestep", timestep);
        out.put("paper_images_per_min", 60 * images / paperS);
        out.put("paper_peak_rss_mb", paperPeak);
        out.put("extraction_images_per_min", 60 * images / extractS);
        out.put("extraction_peak_rss_mb", extractPeak);
        out.put("extraction_floats_per_image", floats[0] / images);
        out.put("peak_rss_reset", reset);
        out.put("probe_modules", r.probe().size());
        out.put("summary", String.format(Locale.ROOT, "analyze paper: %.2f images/min (peak RSS %.0f MB); the paper's"
                + " extraction alone (one whole forward per image, %d modules copied out): %.2f images/min (peak RSS %.0f MB)",
                60 * images / paperS, paperPeak, points.size(), 60 * images / extractS, extractPeak));
        return out;
    }

    private static Progress report(Consumer<String> progress, String what) {
        long t0 = System.nanoTime();
        return new Progress() {
            public void start(String phase, long total) {
            }

            public void advance(long done, String detail) {
                progress.accept(String.format(Locale.ROOT, "%s: %s, RSS %.0f MB, %.1f s", what, detail, ProcStatus.rssMb(),
                        (System.nanoTime() - t0) / 1e9));
            }

            public void finish() {
            }
        };
    }
}
