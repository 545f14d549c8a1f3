package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.analysis.paper.AnomalyAtlas;
import dev.unetlens.analysis.paper.AnomalyLabels;
import dev.unetlens.analysis.paper.AtlasReport;
import dev.unetlens.analysis.paper.PaperCheckpoint;
import dev.unetlens.analysis.paper.PaperReport;
import dev.unetlens.analysis.paper.PaperRun;
import dev.unetlens.analysis.paper.PaperRun.Experiment;
import dev.unetlens.analysis.paper.PositionProbe;
import dev.unetlens.hook.ModulePath;
import dev.unetlens.hook.PaperModules;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.pipeline.StableDiffusion;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * The anomaly paper's experiments as {@code analyze} kinds ({@link PaperRun}): the paper's defaults (--at paper,
 * --timestep 50, --seed 42, one draw), the anomaly options (--reference, --labels, --k), the group limit and the probe's
 * epochs. Labels are read and checked before anything is written.
 */
abstract class AnalyzePaperKind extends AnalyzeKind {
    @Option(names = "--reference", paramLabel = "MODULE",
            description = "Module the anomaly labels are given at (default: up_blocks[1].upsamplers[0], the paper's).")
    String reference;

    @Option(names = "--labels", paramLabel = "FILE",
            description = "Anomaly labels at the reference module: the paper's .npy of (image, x, y) rows, or JSON lists of"
                    + " {x, y} per image (an array by image index, or an object by image name). Default: the detected patches.")
    Path labelsFile;

    @Option(names = "--k", paramLabel = "K", defaultValue = "6",
            description = "Detector threshold: median + K·1.4826·MAD of each norm map (default: ${DEFAULT-VALUE}).")
    double k;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "500",
            description = "Images the group similarity averages, the first ones (default: ${DEFAULT-VALUE}, the paper's).")
    int limit;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "5", description = "Probe epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--resume", description = "Continue an interrupted run in --out: images it finished are not extracted again.")
    boolean resume;

    private List<AnomalyLabels.Label> labels;
    /** Whether this run is an atlas over timesteps and seeds ({@code analyze anomalies --timesteps/--seeds}). */
    boolean atlas;
    private int images;

    /** Whether the options ask for the anomaly atlas instead of the paper's experiment. */
    boolean atlasAsked(List<Integer> timesteps) {
        return false;
    }

    /** The atlas' seeds. */
    List<Long> seeds() {
        return List.of(generation.seed());
    }

    /** The experiments this kind runs. */
    abstract Set<Experiment> experiments();

    @Override
    String defaultModules() {
        return PaperModules.NAME;
    }

    @Override
    List<Integer> defaultTimesteps() {
        return List.of(PaperRun.TIMESTEP);
    }

    @Override
    int defaultSamples() {
        return 1;
    }

    @Override
    void checkOptions(List<Integer> timesteps) {
        atlas = atlasAsked(timesteps);
        if (timesteps.size() != 1 && !atlas) {
            throw new UnetlensException("the paper's experiments run at one timestep; got " + timesteps.size() + " (use --timestep T)");
        }
        if (input.samples(1) != 1) {
            throw new UnetlensException("the paper's experiments take one noise draw per image (--samples 1); got " + input.samples(1));
        }
        if (limit < 1) {
            throw new UnetlensException("--limit must be at least 1, got " + limit);
        }
        if (!(k > 0) || !Double.isFinite(k)) {
            throw new UnetlensException("--k must be a positive number, got " + k);
        }
        if (epochs < 1) {
            throw new UnetlensException("--epochs must be at least 1, got " + epochs);
        }
        if (generation.seed == null) {
            generation.seed = PaperRun.SEED;
        }
        if (atlas) {
            seeds();                                   // a bad list fails before the model loads
        }
        if (atlas && (labelsFile != null || resume)) {
            throw new UnetlensException("the atlas (--timesteps or --seeds) detects anomalies itself and runs at once; leave out "
                    + (labelsFile != null ? "--labels" : "--resume"));
        }
        if (labelsFile != null && !experiments().contains(Experiment.ANOMALIES)) {
            throw new UnetlensException("--labels is for the anomaly experiment (analyze anomalies or analyze paper)");
        }
        if (labelsFile != null) {
            labels = AnomalyLabels.read(labelsFile, input.given() ? input.read(input.skipBad).entries().stream()
                    .map(ImageSet.Entry::name).toList() : List.of());
        }
    }

    @Override
    void checkImageCount(int n) {
        images = n;
        if (!atlas && experiments().contains(Experiment.PROBE)) {
            PositionProbe.checkImages(n, PositionProbe.Settings.PAPER);
        }
    }

    private String referenceModule(StableDiffusion sd) {
        if (reference != null) {
            return ModulePath.parse(reference).value();
        }
        return PaperModules.reference(sd.unet().hooks()).orElseThrow(() -> new UnetlensException(
                "this U-Net has no up_blocks[1].upsamplers[0]; name the anomaly reference module with --reference"));
    }

    @Override
    void checkShapes(StableDiffusion sd, Sampling s, int width, int height) {
        var shapes = FeatureStream.shapes(sd, s.points(), width, height);
        if (atlas) {
            new AnomalyAtlas.Options(s, seeds(), k);
            return;
        }
        options(sd, s);
        if (experiments().contains(Experiment.PROBE)) {
            long bytes = 4L * images * shapes.values().stream().mapToLong(FeatureStream.MapShape::size).sum();
            long max = Runtime.getRuntime().maxMemory();
            if (bytes > 0.7 * max) {
                throw new UnetlensException(String.format(java.util.Locale.ROOT, "the probe keeps every token of every image"
                        + " in memory: %.1f GB for %d images at %d modules, over 70 %% of the Java heap (%.1f GB); use fewer"
                        + " images or modules (--at), or more heap (UNETLENS_JAVA_OPTS=-Xmx…)", bytes / 1e9, images,
                        shapes.size(), max / 1e9));
            }
        }
        if (labels != null) {
            var ref = shapes.get(referenceModule(sd));
            AnomalyLabels.check(labels, images, referenceModule(sd), ref.height(), ref.width());
        }
    }

    PaperRun.Options options(StableDiffusion sd, Sampling s) {
        String ref = experiments().contains(Experiment.ANOMALIES) ? referenceModule(sd) : null;
        PositionProbe.Settings p = PositionProbe.Settings.PAPER;
        p = new PositionProbe.Settings(epochs, p.batch(), p.lr(), p.seed(), p.trainShare(), p.grids());
        return new PaperRun.Options(s, experiments(), ref, k, labels, limit, p);
    }

    @Override
    OutputDirectory openOutput() {
        if (resume && output.force) {
            throw new UnetlensException("give --resume (continue the run in --out) or --force (start it over), not both");
        }
        return resume ? OutputDirectory.resume(output.out, "analyze " + kind()) : super.openOutput();
    }

    @Override
    void run(StableDiffusion sd, ImageSet images, Sampling s, OutputDirectory out, ObjectNode request) {
        if (atlas) {
            AnomalyAtlas.Options a = new AnomalyAtlas.Options(s, seeds(), k);
            AtlasReport.write(AnomalyAtlas.of(sd, images, a, ConsoleProgress.forStderr()), request, out);
            return;
        }
        PaperRun.Options o = options(sd, s);
        PaperCheckpoint checkpoint = new PaperCheckpoint(out, o, stateRequest(o, request));
        PaperRun.Result r = PaperRun.of(sd, images, o, checkpoint, ConsoleProgress.forStderr());
        if (checkpoint.restored() > 0) {
            System.err.println("resumed: " + checkpoint.restored() + " of " + images.size() + " images read back from the earlier run");
        }
        out.manifest().put("images_from_earlier_run", checkpoint.restored());
        PaperReport.write(r, request, out);
        checkpoint.clear();
    }

    /** What the kept images' state depends on: a resumed run must ask the same. */
    private static ObjectNode stateRequest(PaperRun.Options o, ObjectNode request) {
        ObjectNode q = o.sampling().toJson();
        q.setAll(request.deepCopy());
        q.set("experiments", q.arrayNode().addAll(o.experiments().stream().map(e -> q.textNode(e.name())).toList()));
        q.put("group_limit", o.groupLimit());
        return q;
    }
}
