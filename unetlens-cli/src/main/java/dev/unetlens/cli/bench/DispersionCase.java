package dev.unetlens.cli.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.dispersion.Dispersion;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.extract.ImageFeatures;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.synth.SyntheticModel.Component;

import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * {@code analyze dispersion} as the notebook runs it: one {@code size}² image, {@code point}, timestep {@code t},
 * {@code samples} noise draws in batches of {@code batchSize}, statistics streamed (Welford). One warm-up of one batch,
 * then the timed run with the RSS after every batch; then, with the high-water mark reset, the same with
 * {@code moreSamples} draws: the memory of a streamed statistic must not grow with the draws. Flat means: over the
 * second half of the longer run the RSS rises by at most {@link #FLAT_TOLERANCE} (state that grew with the draws would
 * rise there as much as in the first half; the first batches of a JVM grow its Java heap and libtorch's caches, so the
 * peak of the second run is reported beside the first's, not judged).
 */
record DispersionCase(int size, String point, int timestep, int samples, int moreSamples, int batchSize) implements BenchCase {
    /** Allowed rise of the RSS over the second half of the longer run (allocator noise). */
    static final double FLAT_TOLERANCE = 0.02;

    @Override
    public String name() {
        return "dispersion_" + size + "_" + BenchCase.shortPoint(point) + "_t" + timestep;
    }

    @Override
    public String describe() {
        return "analyze dispersion of " + point + " on one " + size + "×" + size + " image at t = " + timestep + ", " + samples
                + " draws (then " + moreSamples + ") in batches of " + batchSize + ", Welford statistics";
    }

    @Override
    public Set<Component> components() {
        return EnumSet.allOf(Component.class);
    }

    @Override
    public Workload open(DiffusersFolder model, NDManager manager) {
        return SelfTimedWorkload.of(model, this::measure);
    }

    private ObjectNode measure(StableDiffusion sd, Consumer<String> progress) {
        ImageSet image = ImageSet.of(List.of(ExtractCase.image(size)), List.of("bench"));
        run(sd, image, batchSize, progress, "warm-up", JsonNodeFactory.instance.arrayNode());
        ArrayNode trace = JsonNodeFactory.instance.arrayNode();
        long t0 = System.nanoTime();
        Dispersion.Result r = run(sd, image, samples, progress, samples + " draws", trace);
        double seconds = (System.nanoTime() - t0) / 1e9;
        double peak = ProcStatus.peakRssMb();
        boolean reset = ProcStatus.resetPeakRss();
        ArrayNode moreTrace = JsonNodeFactory.instance.arrayNode();
        long t1 = System.nanoTime();
        run(sd, image, moreSamples, progress, moreSamples + " draws", moreTrace);
        double moreSeconds = (System.nanoTime() - t1) / 1e9;
        double morePeak = ProcStatus.peakRssMb();
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("median_s", seconds);
        o.put("median_is", "seconds of the whole analysis of one image with " + samples + " draws (one run after a one-batch warm-up)");
        o.put("samples", samples);
        o.put("batch_size", batchSize);
        o.put("point", point);
        o.put("timestep", timestep);
        o.put("image", size + "x" + size);
        o.put("draws_per_s", samples / seconds);
        o.put("mean_std", r.meanStd()[0][0]);
        o.put("peak_rss_" + samples + "_mb", peak);
        o.set("rss_mb_by_draws_" + samples, trace);
        o.put("more_samples", moreSamples);
        o.put("more_samples_s", moreSeconds);
        o.put("peak_rss_reset", reset);
        o.put("peak_rss_" + moreSamples + "_mb", morePeak);
        o.set("rss_mb_by_draws_" + moreSamples, moreTrace);
        double rise = (morePeak - peak) / peak;
        o.put("peak_rss_rise", rise);
        double half = rssAt(moreTrace, moreSamples / 2);
        double end = rssAt(moreTrace, moreSamples);
        double secondHalf = (end - half) / half;
        o.put("rss_at_half_mb", half);
        o.put("rss_at_end_mb", end);
        o.put("rss_second_half_rise", secondHalf);
        o.put("rss_second_half_mb_per_draw", (end - half) / (moreSamples - moreSamples / 2));
        o.put("rss_flat", secondHalf <= FLAT_TOLERANCE);
        o.put("rss_flat_rule", "RSS after draw " + moreSamples + " at most " + (int) (100 * FLAT_TOLERANCE)
                + " % above the RSS after draw " + moreSamples / 2 + " of the same run");
        o.put("summary", String.format(Locale.ROOT, "%d draws in %.1f s (%.2f draws/s), peak RSS %.0f MB; %d draws: peak RSS"
                + " %.0f MB, RSS %.0f MB at draw %d and %.0f MB at draw %d (%+.1f %%)", samples, seconds, samples / seconds,
                peak, moreSamples, morePeak, half, moreSamples / 2, end, moreSamples, 100 * secondHalf));
        return o;
    }

    /** The RSS recorded after the first batch that reached {@code draws}. */
    private static double rssAt(ArrayNode trace, int draws) {
        for (var e : trace) {
            if (e.get(0).asInt() >= draws) {
                return e.get(1).asDouble();
            }
        }
        return trace.get(trace.size() - 1).get(1).asDouble();
    }

    /** One dispersion run of {@code n} draws; {@code trace} gets [draws done, RSS MB] after every batch. */
    private Dispersion.Result run(StableDiffusion sd, ImageSet image, int n, Consumer<String> progress, String what, ArrayNode trace) {
        Sampling s = new Sampling(List.of(point), List.of(timestep), n, batchSize, INPUT_SEED, "", ImageFeatures.Latent.MEAN, false);
        Dispersion.Options o = new Dispersion.Options(s, timestep, 0, 4);
        long[] t = {System.nanoTime()};
        Progress p = new Progress() {
            public void start(String phase, long total) {
            }

            public void advance(long done, String detail) {
                double rss = ProcStatus.rssMb();
                trace.addArray().add(done).add(rss);
                progress.accept(String.format(Locale.ROOT, "%s: %d/%d draws, RSS %.0f MB, %.1f s", what, done, n, rss,
                        (System.nanoTime() - t[0]) / 1e9));
            }

            public void finish() {
            }
        };
        return Dispersion.of(sd, image, o, each -> { }, p);
    }
}
