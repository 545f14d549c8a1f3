package dev.unetlens.analysis.dispersion;

import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.analysis.stats.Maps;
import dev.unetlens.analysis.stats.Welford;
import dev.unetlens.extract.ImageFeatures;
import dev.unetlens.extract.Representation;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * How far do representations move between noise draws? (the notebook's "Dispersion"): for each image and timestep,
 * N draws of the chosen modules, the modules brought to one size by sdhelper's {@code concat}
 * ({@link Representation#concat}: nearest repetition to the largest size, bottom and right zero-padded where sizes
 * are not multiples), the standard deviation over the draws of every channel at every position (unbiased, n − 1, as
 * torch's {@code std}), averaged over the channels: an H × W map, and its mean.
 *
 * <p>Streaming: per module one {@link Welford} accumulator of the current image and timestep, finished when its
 * draws are complete. The std of a repeated or zero-padded value is the repeated std or 0, so concatenating the
 * per-module std maps equals the notebook's std of the concatenated draws.
 */
public final class Dispersion {
    /** The notebook's timesteps for std against timestep: 0 to 250 in steps of 50. */
    public static final List<Integer> DEFAULT_TIMESTEPS = dev.unetlens.analysis.TimestepList.range(0, 250, 50);
    /** The notebook's map scale. */
    public static final double DEFAULT_VMAX = 4;

    private Dispersion() {
    }

    /**
     * @param sampling    modules, timesteps, draws (at least 2)
     * @param mapTimestep the timestep whose maps are drawn beside the images (one of the timesteps)
     * @param vmin        colour scale of the maps: low end
     * @param vmax        high end (the notebook: 0 to 4)
     */
    public record Options(Sampling sampling, int mapTimestep, double vmin, double vmax) {
        public Options {
            if (sampling.samples() < 2) {
                throw new UnetlensException("dispersion needs at least 2 noise draws (--samples), got " + sampling.samples());
            }
            if (!sampling.timesteps().contains(mapTimestep)) {
                throw new UnetlensException("--map-timestep " + mapTimestep + " is not one of the timesteps " + sampling.timesteps());
            }
            if (!(vmax > vmin)) {
                throw new UnetlensException("--scale needs low < high, got " + vmin + ", " + vmax);
            }
        }
    }

    /**
     * One image's dispersion.
     *
     * @param index   its place in the image set
     * @param name    its name
     * @param height  S_h of the concatenated map
     * @param width   S_w
     * @param maps    [T][S_h·S_w]: the std map at each timestep (row-major)
     * @param meanStd [T]: each map's mean
     */
    public record ImageResult(int index, String name, int height, int width, double[][] maps, double[] meanStd) {
    }

    /**
     * @param options  what was asked
     * @param channels channels of the concatenated map (Σ C over the modules)
     * @param names    the images, in order
     * @param meanStd  [images][T]
     */
    public record Result(Options options, int channels, List<String> names, double[][] meanStd) {
        /** The mean over images of the mean std, per timestep. */
        public double[] meanOverImages() {
            int nt = options.sampling().timesteps().size();
            double[] m = new double[nt];
            for (double[] row : meanStd) {
                for (int t = 0; t < nt; t++) {
                    m[t] += row[t] / meanStd.length;
                }
            }
            return m;
        }
    }

    /** Runs over every image, handing each image's maps to {@code each} when it is done (they are not kept). */
    public static Result of(StableDiffusion sd, ImageSet images, Options o, Consumer<ImageResult> each, Progress progress) {
        List<String> names = images.entries().stream().map(ImageSet.Entry::name).toList();
        Accumulator acc = new Accumulator(o, FeatureStream.shapes(sd, o.sampling().points(), images), names, each);
        FeatureStream.run(sd, images, o.sampling(), acc, progress);
        return acc.result();
    }

    /**
     * The Welford accumulators behind {@link #of}: one per module for the image and timestep being streamed,
     * finished and dropped when its draws are complete; each image's maps go to {@code each} after its last timestep.
     */
    public static final class Accumulator implements ImageFeatures.BatchSink {
        private final Options o;
        private final List<Map<String, MapShape>> shapes;
        private final List<String> names;
        private final Consumer<ImageResult> each;
        private final Map<String, Welford> current = new LinkedHashMap<>();
        private final double[][] meanStd;
        private double[][] maps;

        public Accumulator(Options o, List<Map<String, MapShape>> shapes, List<String> names, Consumer<ImageResult> each) {
            this.o = o;
            this.shapes = List.copyOf(shapes);
            this.names = List.copyOf(names);
            this.each = each;
            this.meanStd = new double[names.size()][o.sampling().timesteps().size()];
            this.maps = new double[o.sampling().timesteps().size()][];
        }

        @Override
        public void accept(ImageFeatures.Batch b) {
            MapShape m = shapes.get(b.image()).get(b.point());
            int rows = (int) b.value().getShape().get(0);
            current.computeIfAbsent(b.point(), k -> new Welford(m.size())).add(b.value().toFloatArray(), rows);
        }

        @Override
        public void samplesDone(int image, int timestep) {
            List<Integer> ts = o.sampling().timesteps();
            int t = ts.indexOf(timestep);
            Representation std = concatStd(o.sampling().points(), shapes.get(image), current);
            current.clear();
            maps[t] = Maps.meanOverChannels(Maps.toDoubles(std.data()), std.channels());
            meanStd[image][t] = Maps.mean(maps[t]);
            if (t == ts.size() - 1) {
                each.accept(new ImageResult(image, names.get(image), std.height(), std.width(), maps, meanStd[image].clone()));
                maps = new double[ts.size()][];
            }
        }

        public Result result() {
            int channels = shapes.getFirst().values().stream().mapToInt(MapShape::channels).sum();
            return new Result(o, channels, names, meanStd);
        }
    }

    /** Runs and keeps every image's maps (for a few images; the CLI streams them to files instead). */
    public static List<ImageResult> maps(StableDiffusion sd, ImageSet images, Options o, Progress progress) {
        List<ImageResult> out = new ArrayList<>();
        of(sd, images, o, out::add, progress);
        return out;
    }

    /** The per-module std maps (unbiased) concatenated: (1, Σ C, S_h, S_w). */
    static Representation concatStd(List<String> points, Map<String, MapShape> shapes, Map<String, Welford> acc) {
        List<Representation> parts = new ArrayList<>();
        for (String p : points) {
            MapShape m = shapes.get(p);
            parts.add(new Representation(p, new long[] {1, m.channels(), m.height(), m.width()},
                    Maps.toFloats(acc.get(p).std(1)), false));
        }
        return Representation.concat(parts);
    }
}
