package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.analysis.paper.AnomalyLabels;
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

    private List<AnomalyLabels.Label> labels;
    private int images;

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
        if (timesteps.size() != 1) {
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
        options(sd, s);
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
    void run(StableDiffusion sd, ImageSet images, Sampling s, OutputDirectory out, ObjectNode request) {
        PaperRun.Result r = PaperRun.of(sd, images, options(sd, s), ConsoleProgress.forStderr());
        PaperReport.write(r, request, out);
    }
}
