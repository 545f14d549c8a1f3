package dev.unetlens.analysis.channels;

import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.analysis.stats.LogHistogram;
import dev.unetlens.analysis.stats.MagnitudeSummary;
import dev.unetlens.analysis.stats.Maps;
import dev.unetlens.analysis.stats.RunningMean;
import dev.unetlens.extract.ImageFeatures;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.HookScope;
import dev.unetlens.io.RgbImage;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.rng.TorchGenerator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Are the scales of a module's channels comparable? (the notebook's "Mean representation values"): for each module
 * and timestep, the mean |x| of every channel over positions, noise draws and images, m_c = mean_{n,h,w} |x_{n,c,h,w}|
 * (each draw's map averaged over its own positions, then the draws averaged, so images of different sizes weigh
 * alike). Summaries per module and timestep: max/min and max/median channel ratio, and how many channels hold half
 * of the total magnitude; a histogram of the m_c on logarithmic bins at one timestep.
 *
 * <p>{@link #ofGeneration} also compares the last step of a generation (the notebook's
 * {@code res.representations[module][-1]}) with extraction from the generated image at each timestep.
 */
public final class ChannelMagnitudes {
    /** The notebook's timesteps: 0 to 500 in steps of 50. */
    public static final List<Integer> DEFAULT_TIMESTEPS = dev.unetlens.analysis.TimestepList.range(0, 500, 50);

    private ChannelMagnitudes() {
    }

    /**
     * @param sampling     modules, timesteps, draws
     * @param histTimestep the timestep whose channel means are binned (one of the timesteps)
     * @param bins         logarithmic bins of the histogram
     */
    public record Options(Sampling sampling, int histTimestep, int bins) {
        public Options {
            if (!sampling.timesteps().contains(histTimestep)) {
                throw new UnetlensException("--hist-timestep " + histTimestep + " is not one of the timesteps "
                        + sampling.timesteps());
            }
            if (bins < 1 || bins > 10_000) {
                throw new UnetlensException("--bins must be in [1, 10000], got " + bins);
            }
        }
    }

    /**
     * One module's channel means.
     *
     * @param module  the hook point
     * @param shape   its map (of the first image)
     * @param meanAbs [T][C]: m_c at each timestep, in the order of the options' timesteps
     */
    public record ModuleResult(String module, MapShape shape, double[][] meanAbs) {
        public MagnitudeSummary summary(int timestepIndex) {
            return MagnitudeSummary.of(meanAbs[timestepIndex]);
        }
    }

    /**
     * The last generation step's channel means, from the conditional rows (with CFG) of the step's U-Net pass.
     *
     * @param request  the generation
     * @param image    the generated image (what extraction then reads)
     * @param timestep the model timestep of the last step
     * @param meanAbs  per module: m_c at the last step, [C]
     */
    public record Generation(GenerationRequest request, RgbImage image, double timestep, Map<String, double[]> meanAbs) {
    }

    /**
     * @param options    what was asked
     * @param modules    per module, in the order asked
     * @param images     how many images were read
     * @param generation the generation compared with, or null
     */
    public record Result(Options options, List<ModuleResult> modules, int images, Generation generation) {
        public ModuleResult module(String name) {
            return modules.stream().filter(m -> m.module().equals(name)).findFirst().orElseThrow();
        }

        /** Index of a timestep in the options' list. */
        public int timestepIndex(int t) {
            return options.sampling().timesteps().indexOf(t);
        }

        /** The histogram of a module's channel means at the histogram timestep. */
        public LogHistogram histogram(ModuleResult m) {
            return LogHistogram.of(m.meanAbs()[timestepIndex(options.histTimestep())], options.bins());
        }
    }

    /** Channel means over the images, each at every timestep with every draw. */
    public static Result of(StableDiffusion sd, ImageSet images, Options o, Progress progress) {
        return of(sd, images, o, null, progress);
    }

    /**
     * Generates {@code request}'s image (keeping each module's output at the last step), then measures the channel
     * means of the generated image as {@link #of} does.
     */
    public static Result ofGeneration(StableDiffusion sd, GenerationRequest request, Options o, Progress progress) {
        Pipeline pipeline = new Pipeline(sd);
        int last = pipeline.plan(request).steps() - 1;                  // 0-based; its last evaluation is kept
        Map<String, double[]> lastStep = new LinkedHashMap<>();
        double[] timestep = {Double.NaN};
        GenerationResult g;
        try (HookScope scope = HookScope.open(sd.unet().hooks())) {
            scope.capture(o.sampling().points(), Capture.Rows.COND, c -> {
                if (c.step() == last) {
                    long[] s = c.value().getShape().getShape();
                    double[] perRow = Maps.meanAbsPerChannel(c.value().toFloatArray(), (int) s[0], (int) s[1], (int) (s[2] * s[3]));
                    RunningMean m = new RunningMean((int) s[1]);
                    for (int r = 0; r < s[0]; r++) {
                        m.add(java.util.Arrays.copyOfRange(perRow, (int) (r * s[1]), (int) ((r + 1) * s[1])));
                    }
                    lastStep.put(c.point(), m.mean());
                    timestep[0] = c.timestep();
                }
            });
            g = pipeline.generate(request, new TorchGenerator(request.seed()), Pipeline.StepCallback.NONE, progress);
        }
        RgbImage image = g.images().getFirst();
        Generation gen = new Generation(request, image, timestep[0], lastStep);
        return of(sd, ImageSet.of(List.of(image), List.of("generated")), o, gen, progress);
    }

    private static Result of(StableDiffusion sd, ImageSet images, Options o, Generation gen, Progress progress) {
        Accumulator acc = new Accumulator(o, FeatureStream.shapes(sd, o.sampling().points(), images));
        FeatureStream.run(sd, images, o.sampling(), acc, progress);
        return acc.result(images.size(), gen);
    }

    /**
     * The running sums behind {@link #of}: fed batch by batch ({@link ImageFeatures.BatchSink}), one float64 sum per
     * module, timestep and channel, whatever the number of images and draws.
     */
    public static final class Accumulator implements ImageFeatures.BatchSink {
        private final Options o;
        private final List<Map<String, MapShape>> shapes;
        private final Map<String, RunningMean[]> sums = new LinkedHashMap<>();

        /** {@code shapes}: each image's maps by point ({@link FeatureStream#shapes}). */
        public Accumulator(Options o, List<Map<String, MapShape>> shapes) {
            this.o = o;
            this.shapes = List.copyOf(shapes);
            int nt = o.sampling().timesteps().size();
            for (String p : o.sampling().points()) {
                RunningMean[] perT = new RunningMean[nt];
                for (int t = 0; t < nt; t++) {
                    perT[t] = new RunningMean(shapes.getFirst().get(p).channels());
                }
                sums.put(p, perT);
            }
        }

        @Override
        public void accept(ImageFeatures.Batch b) {
            MapShape m = shapes.get(b.image()).get(b.point());
            int rows = (int) b.value().getShape().get(0);
            double[] perRow = Maps.meanAbsPerChannel(b.value().toFloatArray(), rows, m.channels(), m.positions());
            RunningMean mean = sums.get(b.point())[o.sampling().timesteps().indexOf(b.timestep())];
            for (int r = 0; r < rows; r++) {
                mean.add(java.util.Arrays.copyOfRange(perRow, r * m.channels(), (r + 1) * m.channels()));
            }
        }

        /** The channel means of what was fed. */
        public Result result(int images, Generation gen) {
            int nt = o.sampling().timesteps().size();
            List<ModuleResult> modules = new ArrayList<>();
            for (var e : sums.entrySet()) {
                double[][] means = new double[nt][];
                for (int t = 0; t < nt; t++) {
                    means[t] = e.getValue()[t].mean();
                }
                modules.add(new ModuleResult(e.getKey(), shapes.getFirst().get(e.getKey()), means));
            }
            return new Result(o, List.copyOf(modules), images, gen);
        }
    }
}
