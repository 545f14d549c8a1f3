package dev.unetlens.analysis.paper;

import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.analysis.paper.AnomalyDetector.Patch;
import dev.unetlens.extract.ImageFeatures;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How anomalies change with the timestep and the noise seed (the paper warns that they do; nothing measured it):
 * for every module, timestep and seed, the detector's patches in every image; per module × timestep the rate of
 * anomalous images (share of image–seed pairs with at least one patch) and the stability of each patch's place: the
 * share of the other seeds in which the same image has a patch whose upper-left token is within one token (in rows
 * and in columns), averaged over all patches.
 */
public final class AnomalyAtlas {
    /** Patches within this many tokens count as the same place. */
    public static final int SAME_PLACE = 1;

    private AnomalyAtlas() {
    }

    /**
     * @param sampling modules and timesteps (one draw; its seed is replaced by each of {@code seeds})
     * @param seeds    noise seeds
     * @param k        the detector's threshold
     */
    public record Options(Sampling sampling, List<Long> seeds, double k) {
        public Options {
            seeds = List.copyOf(seeds);
            if (seeds.isEmpty() || seeds.stream().distinct().count() != seeds.size()) {
                throw new UnetlensException("--seeds needs one or more different seeds, got " + seeds);
            }
            if (sampling.samples() != 1) {
                throw new UnetlensException("the atlas takes one noise draw per image and seed");
            }
        }
    }

    /**
     * @param options   what was asked
     * @param rate      [module][timestep] share of image–seed pairs with a patch
     * @param stability [module][timestep] mean share of other seeds with a patch at the same place (NaN: no patch or one seed)
     * @param patches   [module][timestep] patches over all images and seeds
     */
    public record Result(Options options, List<String> names, double[][] rate, double[][] stability, int[][] patches) {
    }

    /** Collects the patches of streamed maps, for the seed set before each pass. */
    public static final class Collector implements ImageFeatures.BatchSink {
        private final List<Map<String, MapShape>> shapes;
        private final double k;
        private final Map<String, List<Patch>> found = new HashMap<>();
        private long seed;

        public Collector(List<Map<String, MapShape>> shapes, double k) {
            this.shapes = shapes;
            this.k = k;
        }

        public void seed(long s) {
            seed = s;
        }

        @Override
        public void accept(ImageFeatures.Batch b) {
            MapShape s = shapes.get(b.image()).get(b.point());
            NormMap m = NormMap.of(b.value().toFloatArray(), 0, s.channels(), s.height(), s.width());
            found.put(key(b.point(), b.timestep(), seed, b.image()), AnomalyDetector.detect(m, k));
        }

        List<Patch> get(String module, int t, long seed, int image) {
            return found.getOrDefault(key(module, t, seed, image), List.of());
        }

        private static String key(String module, int t, long seed, int image) {
            return module + "@" + t + "@" + seed + "@" + image;
        }
    }

    public static Result of(StableDiffusion sd, ImageSet images, Options o, Progress progress) {
        Collector c = new Collector(FeatureStream.shapes(sd, o.sampling().points(), images), o.k());
        Sampling s = o.sampling();
        for (long seed : o.seeds()) {
            c.seed(seed);
            FeatureStream.run(sd, images, new Sampling(s.points(), s.timesteps(), 1, s.batchSize(), seed, s.prompt(),
                    s.latent(), s.unitRange()), c, progress);
        }
        return result(o, images.entries().stream().map(ImageSet.Entry::name).toList(), c);
    }

    /** The rates and stabilities of what {@code c} collected (planted data enters here). */
    public static Result result(Options o, List<String> names, Collector c) {
        List<String> modules = o.sampling().points();
        List<Integer> ts = o.sampling().timesteps();
        double[][] rate = new double[modules.size()][ts.size()];
        double[][] stability = new double[modules.size()][ts.size()];
        int[][] count = new int[modules.size()][ts.size()];
        for (int m = 0; m < modules.size(); m++) {
            for (int t = 0; t < ts.size(); t++) {
                int anomalous = 0;
                double stable = 0;
                for (int i = 0; i < names.size(); i++) {
                    for (long seed : o.seeds()) {
                        List<Patch> ps = c.get(modules.get(m), ts.get(t), seed, i);
                        anomalous += ps.isEmpty() ? 0 : 1;
                        for (Patch p : ps) {
                            stable += shareOfOtherSeeds(c, o.seeds(), modules.get(m), ts.get(t), i, seed, p);
                            count[m][t]++;
                        }
                    }
                }
                rate[m][t] = (double) anomalous / (names.size() * o.seeds().size());
                stability[m][t] = count[m][t] == 0 || o.seeds().size() < 2 ? Double.NaN : stable / count[m][t];
            }
        }
        return new Result(o, names, rate, stability, count);
    }

    private static double shareOfOtherSeeds(Collector c, List<Long> seeds, String module, int t, int image, long seed, Patch p) {
        int same = 0;
        for (long other : seeds) {
            if (other != seed && c.get(module, t, other, image).stream().anyMatch(q ->
                    Math.abs(q.row() - p.row()) <= SAME_PLACE && Math.abs(q.col() - p.col()) <= SAME_PLACE)) {
                same++;
            }
        }
        return seeds.size() < 2 ? Double.NaN : (double) same / (seeds.size() - 1);
    }

    /** Parses {@code 1,2,5} or {@code 0-9}. */
    public static List<Long> parseSeeds(String text) {
        List<Long> out = new ArrayList<>();
        try {
            for (String part : text.split(",")) {
                String p = part.strip();
                int dash = p.indexOf('-', 1);
                if (dash > 0) {
                    long a = Long.parseLong(p.substring(0, dash).strip());
                    long b = Long.parseLong(p.substring(dash + 1).strip());
                    if (b < a || b - a > 10_000) {
                        throw new NumberFormatException();
                    }
                    for (long s = a; s <= b; s++) {
                        out.add(s);
                    }
                } else {
                    out.add(Long.parseLong(p));
                }
            }
        } catch (NumberFormatException e) {
            throw new UnetlensException("--seeds takes seeds like 1,2,3 or a range 0-9, got '" + text + "'");
        }
        return out;
    }
}
