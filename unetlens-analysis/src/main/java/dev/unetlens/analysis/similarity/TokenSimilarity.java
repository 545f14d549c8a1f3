package dev.unetlens.analysis.similarity;

import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.analysis.stats.Maps;
import dev.unetlens.analysis.stats.RunningMean;
import dev.unetlens.extract.ImageFeatures;
import dev.unetlens.extract.Representation;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The representation similarity explorer of Loos &amp; Linhardt (2025) as an analysis: a reference token (row, col)
 * of image A's map against every token of image B's map (B may be A), with one of the explorer's seven
 * {@link Measure}s, at each timestep. The map of an image is its representation at the chosen modules (several are
 * joined by sdhelper's {@code concat}), averaged over the noise draws (the explorer: one draw); with
 * {@link Options#allTokens} also sdhelper's {@code cosine_similarity}: every token of A against every token of B,
 * (H, W, H', W'), without ε as sdhelper computes it.
 */
public final class TokenSimilarity {
    /** The explorer's default timestep (and the paper's). */
    public static final int DEFAULT_TIMESTEP = 50;

    private TokenSimilarity() {
    }

    /**
     * @param sampling  modules (joined by concat), timesteps, draws (averaged)
     * @param row       reference token's row on A's map
     * @param col       its column
     * @param measure   the measure
     * @param allTokens also the full cosine matrix
     */
    public record Options(Sampling sampling, int row, int col, Measure measure, boolean allTokens) {
    }

    /**
     * The maps at one timestep.
     *
     * @param timestep  t
     * @param a         A's map (tokens, float64, mean over draws)
     * @param b         B's map
     * @param map       [H_B·W_B]: the measure from the reference token to each token of B, row-major
     * @param allTokens (H_A, W_A, H_B, W_B) cosine similarities, row-major, or null
     */
    public record TimestepResult(int timestep, Tokens a, Tokens b, double[] map, float[] allTokens) {
    }

    /**
     * @param options what was asked
     * @param imageA  A's name
     * @param imageB  B's name (equal to A's when B is A)
     * @param sameImage whether B is A
     * @param results one per timestep, in order
     */
    public record Result(Options options, String imageA, String imageB, boolean sameImage, List<TimestepResult> results) {
    }

    /** A is the set's first image, B its second (or A again when the set has one image). */
    public static Result of(StableDiffusion sd, ImageSet images, Options o, Progress progress) {
        if (images.size() > 2) {
            throw new UnetlensException("similarity compares one image with itself or two images; got " + images.size());
        }
        List<Map<String, MapShape>> shapes = FeatureStream.shapes(sd, o.sampling().points(), images);
        checkToken(o, shapes.getFirst());
        Accumulator acc = new Accumulator(o, shapes);
        FeatureStream.run(sd, images, o.sampling(), acc, progress);
        return acc.result(images.entry(0).name(), images.entry(images.size() - 1).name());
    }

    /** The running means behind {@link #of}: per module for the image being streamed, joined when its draws are done. */
    public static final class Accumulator implements ImageFeatures.BatchSink {
        private final Options o;
        private final List<Map<String, MapShape>> shapes;
        private final Map<String, RunningMean> current = new LinkedHashMap<>();
        private final Map<String, Tokens> maps = new HashMap<>();

        public Accumulator(Options o, List<Map<String, MapShape>> shapes) {
            this.o = o;
            this.shapes = List.copyOf(shapes);
        }

        @Override
        public void accept(ImageFeatures.Batch b) {
            MapShape m = shapes.get(b.image()).get(b.point());
            int rows = (int) b.value().getShape().get(0);
            current.computeIfAbsent(b.point(), k -> new RunningMean(m.size())).add(b.value().toFloatArray(), rows);
        }

        @Override
        public void samplesDone(int image, int timestep) {
            maps.put(image + "@" + timestep, concatMean(o.sampling().points(), shapes.get(image), current));
            current.clear();
        }

        /** The maps at every timestep: A is image 0, B the last image fed. */
        public Result result(String nameA, String nameB) {
            int last = shapes.size() - 1;
            List<TimestepResult> results = new ArrayList<>();
            for (int t : o.sampling().timesteps()) {
                Tokens a = maps.get(0 + "@" + t);
                Tokens b = maps.get(last + "@" + t);
                double[] map = o.measure().map(a, o.row() * a.width() + o.col(), b);
                results.add(new TimestepResult(t, a, b, map, o.allTokens() ? allTokens(a, b) : null));
            }
            return new Result(o, nameA, nameB, last == 0, List.copyOf(results));
        }
    }

    /** The reference token must lie on A's (concatenated) map. */
    public static void checkToken(Options o, Map<String, MapShape> shapesA) {
        int[] size = Representation.concatSize(shapesA.values().stream().map(m -> new int[] {m.height(), m.width()}).toList());
        if (o.row() < 0 || o.row() >= size[0] || o.col() < 0 || o.col() >= size[1]) {
            throw new UnetlensException("--token " + o.row() + "," + o.col() + " is outside the " + size[0] + "×" + size[1]
                    + " map of " + String.join(" + ", o.sampling().points()) + " (rows 0–" + (size[0] - 1)
                    + ", columns 0–" + (size[1] - 1) + ")");
        }
    }

    private static Tokens concatMean(List<String> points, Map<String, MapShape> shapes, Map<String, RunningMean> acc) {
        if (points.size() == 1) {
            MapShape m = shapes.get(points.getFirst());
            return new Tokens(acc.get(points.getFirst()).mean(), m.channels(), m.height(), m.width());
        }
        List<Representation> parts = new ArrayList<>();
        for (String p : points) {
            MapShape m = shapes.get(p);
            parts.add(new Representation(p, new long[] {1, m.channels(), m.height(), m.width()}, Maps.toFloats(acc.get(p).mean()), false));
        }
        Representation r = Representation.concat(parts);
        return new Tokens(Maps.toDoubles(r.data()), r.channels(), r.height(), r.width());
    }

    /** sdhelper's {@code cosine_similarity} of the two maps: (H_A, W_A, H_B, W_B). */
    static float[] allTokens(Tokens a, Tokens b) {
        long[] shape = new long[4];
        return Representation.cosineSimilarity(List.of(representation(a)), List.of(representation(b)), shape);
    }

    private static Representation representation(Tokens t) {
        return new Representation("map", new long[] {1, t.channels(), t.height(), t.width()}, Maps.toFloats(t.values()), false);
    }
}
