package dev.unetlens.analysis.paper;

import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.analysis.paper.AnomalyLabels.Label;
import dev.unetlens.analysis.paper.PaperMaps.ImageMaps;
import dev.unetlens.extract.ImageFeatures;
import dev.unetlens.io.RgbImage;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The experiments of Loos &amp; Linhardt's {@code run_experiments.py} on a user's model and images: one noise draw per
 * image at one timestep (the paper: t = 50, seed 42) at every module, streamed once; the image-cropped group variant
 * runs the cropped images once per token size; the probe trains on the kept tokens afterwards.
 */
public final class PaperRun {
    /** The paper's defaults. */
    public static final int TIMESTEP = 50;
    public static final long SEED = 42;
    public static final int GROUP_LIMIT = 500;

    private PaperRun() {
    }

    public enum Experiment { PROBE, GROUPS, ANOMALIES }

    /**
     * @param sampling    modules, one timestep, one draw
     * @param experiments which to run
     * @param reference   the module the anomaly labels are given at (in the modules)
     * @param k           the detector's threshold in robust σ
     * @param labels      labels at the reference module, or null to use the patches detected there
     * @param groupLimit  images the group similarity averages (the first ones; paper: 500)
     * @param probe       the probe's training settings
     */
    public record Options(Sampling sampling, Set<Experiment> experiments, String reference, double k, List<Label> labels,
                          int groupLimit, PositionProbe.Settings probe) {
        public Options {
            experiments = experiments.isEmpty() ? EnumSet.noneOf(Experiment.class) : EnumSet.copyOf(experiments);
            if (sampling.samples() != 1 || sampling.timesteps().size() != 1) {
                throw new UnetlensException("the paper's experiments take one timestep and one noise draw per image");
            }
            if (experiments.contains(Experiment.ANOMALIES) && !sampling.points().contains(reference)) {
                throw new UnetlensException("the anomaly reference module " + reference + " is not among the modules ("
                        + sampling.points().size() + " chosen); add it to --at or choose --reference");
            }
            if (groupLimit < 1) {
                throw new UnetlensException("--limit must be at least 1, got " + groupLimit);
            }
            if (!(k > 0)) {
                throw new UnetlensException("--k must be a positive number of robust standard deviations, got " + k);
            }
        }

        public boolean has(Experiment e) {
            return experiments.contains(e);
        }
    }

    /**
     * @param found  each image's patches
     * @param ratio  the paper's ratio at the labels
     * @param score  agreement of the patches with the labels (labels from a file only), or null
     */
    public record ModuleAnomalies(List<Anomalies.Found> found, Anomalies.Ratio ratio, Anomalies.Score score) {
    }

    /**
     * @param labels        the labels used for the ratios: the file's, or the patches detected at the reference
     * @param fromFile      whether they came from --labels
     * @param referenceShape the reference module's map
     * @param modules       by module
     */
    public record AnomalyResult(List<Label> labels, boolean fromFile, MapShape referenceShape, Map<String, ModuleAnomalies> modules) {
    }

    public record Result(Options options, List<String> names, PaperMaps maps, Map<String, GroupSimilarity> groups,
                         AnomalyResult anomalies, Map<String, PositionProbe.Result> probe) {
    }

    /** Runs the experiments; {@code restored} has what a resumed run kept of images it need not extract again. */
    public static Result of(StableDiffusion sd, ImageSet images, Options o, Progress progress) {
        List<Map<String, MapShape>> shapes = FeatureStream.shapes(sd, o.sampling().points(), images);
        PaperMaps maps = new PaperMaps(o.sampling().points(), shapes, o.has(Experiment.GROUPS) ? o.groupLimit() : 0,
                o.has(Experiment.PROBE));
        FeatureStream.run(sd, images, o.sampling(), maps, progress);
        Map<String, List<ImageMaps>> cropped = o.has(Experiment.GROUPS) ? croppedPass(sd, images, o, shapes, progress) : Map.of();
        return finish(o, images.entries().stream().map(ImageSet.Entry::name).toList(), maps, cropped, progress);
    }

    /** The results from the maps (planted data enters here). */
    public static Result finish(Options o, List<String> names, PaperMaps maps, Map<String, List<ImageMaps>> cropped,
                                Progress progress) {
        Map<String, GroupSimilarity> groups = new LinkedHashMap<>();
        if (o.has(Experiment.GROUPS)) {
            for (String m : maps.modules()) {
                groups.put(m, GroupSimilarity.of(maps.maps(m), cropped.get(m)));
            }
        }
        AnomalyResult anomalies = o.has(Experiment.ANOMALIES) ? anomalies(o, maps) : null;
        Map<String, PositionProbe.Result> probe = new LinkedHashMap<>();
        if (o.has(Experiment.PROBE)) {
            probe = PositionProbe.trainAll(maps, o.probe(), progress);
        }
        return new Result(o, names, maps, groups, anomalies, probe);
    }

    static AnomalyResult anomalies(Options o, PaperMaps maps) {
        MapShape ref = maps.shape(0, o.reference());
        Map<String, List<Anomalies.Found>> found = new LinkedHashMap<>();
        for (String m : maps.modules()) {
            found.put(m, Anomalies.detect(maps.maps(m), o.k()));
        }
        boolean fromFile = o.labels() != null;
        List<Label> labels = fromFile ? o.labels() : Anomalies.asLabels(found.get(o.reference()));
        if (fromFile) {
            AnomalyLabels.check(labels, maps.maps(o.reference()).size(), o.reference(), ref.height(), ref.width());
        }
        Map<String, ModuleAnomalies> out = new LinkedHashMap<>();
        for (String m : maps.modules()) {
            List<ImageMaps> mm = maps.maps(m);
            Anomalies.Ratio ratio = Anomalies.ratios(mm, labels, ref.height());
            Anomalies.Score score = fromFile ? Anomalies.score(found.get(m), labels, mm.getFirst().norms().height(), ref.height()) : null;
            out.put(m, new ModuleAnomalies(found.get(m), ratio, score));
        }
        return new AnomalyResult(labels, fromFile, ref, out);
    }

    /**
     * The paper's first de-confounded variant: each image cropped by one token (image size // map size, per side)
     * on every side and extracted again, once per token size, at the modules of that size. Where the crop would leave
     * less than 8 pixels (a map of 2 tokens or fewer) the variant is left empty (NaN).
     */
    static Map<String, List<ImageMaps>> croppedPass(StableDiffusion sd, ImageSet images, Options o,
                                                    List<Map<String, MapShape>> shapes, Progress progress) {
        Map<String, List<String>> byToken = new LinkedHashMap<>();
        ImageSet.Entry first = images.entry(0);
        for (var e : shapes.getFirst().entrySet()) {
            int[] t = tokenPixels(first.width(), first.height(), e.getValue());
            byToken.computeIfAbsent(t[0] + "x" + t[1], k -> new ArrayList<>()).add(e.getKey());
        }
        int n = Math.min(images.size(), o.groupLimit());
        Map<String, List<ImageMaps>> out = new LinkedHashMap<>();
        for (List<String> modules : byToken.values()) {
            int[] t0 = tokenPixels(first.width(), first.height(), shapes.getFirst().get(modules.getFirst()));
            if (first.width() - 2 * t0[0] < 8 || first.height() - 2 * t0[1] < 8) {
                modules.forEach(m -> out.put(m, List.of()));        // nothing left to extract: NaN, said in results.json
                continue;
            }
            List<RgbImage> cropped = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int[] t = tokenPixels(images.entry(i).width(), images.entry(i).height(), shapes.get(i).get(modules.getFirst()));
                cropped.add(crop(images.image(i), t[0], t[1]));
            }
            ImageSet set = ImageSet.of(cropped, images.entries().subList(0, n).stream().map(ImageSet.Entry::name).toList());
            Sampling s = new Sampling(modules, o.sampling().timesteps(), 1, 1, o.sampling().seed(), o.sampling().prompt(),
                    o.sampling().latent(), o.sampling().unitRange());
            PaperMaps maps = new PaperMaps(modules, FeatureStream.shapes(sd, modules, set), n, false);
            FeatureStream.run(sd, set, s, maps, progress);
            modules.forEach(m -> out.put(m, maps.maps(m)));
        }
        return out;
    }

    /** A token's size in pixels as the paper computes it (image size // map size): {width, height}. */
    static int[] tokenPixels(int width, int height, MapShape s) {
        return new int[] {width / s.width(), height / s.height()};
    }

    /**
     * {@code img.crop((tw, th, w − tw, h − th))}, then cut (centred) to sides that are multiples of 8 where the token
     * size is not one.
     */
    static RgbImage crop(RgbImage img, int tw, int th) {
        int w = img.width() - 2 * tw;
        int h = img.height() - 2 * th;
        if (w < 8 || h < 8) {
            throw new UnetlensException("cropping " + img.width() + "×" + img.height() + " by one token (" + tw + "×" + th
                    + " px) leaves nothing to extract; use larger images or leave out the groups experiment");
        }
        int x0 = tw + (w % 8) / 2;
        int y0 = th + (h % 8) / 2;
        w -= w % 8;
        h -= h % 8;
        byte[] px = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            System.arraycopy(img.rgb(), ((y0 + y) * img.width() + x0) * 3, px, y * w * 3, w * 3);
        }
        return new RgbImage(w, h, px);
    }
}
