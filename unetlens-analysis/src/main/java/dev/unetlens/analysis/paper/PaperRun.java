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
 * image at one timestep (the paper: t = 50, seed 42) at every module, image by image; the paper's first de-confounded
 * group variant extracts each image again cropped by one token (image size // map size) on every side, once per token
 * size, at the modules of that size (where that leaves under 8 pixels the variant is empty: NaN); the probe trains on
 * the kept tokens afterwards.
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

    /** Where a run keeps each finished image, so that an interrupted run resumes where it stopped. */
    public interface Checkpoint {
        /** The state of image {@code image} an earlier run saved, or null. */
        PaperState.ImageState load(int image, Map<String, MapShape> shapes, List<String> croppedModules);

        void save(int image, PaperState.ImageState state);

        Checkpoint NONE = new Checkpoint() {
            @Override
            public PaperState.ImageState load(int image, Map<String, MapShape> shapes, List<String> croppedModules) {
                return null;
            }

            @Override
            public void save(int image, PaperState.ImageState state) {
            }
        };
    }

    /** Runs the experiments without checkpoints. */
    public static Result of(StableDiffusion sd, ImageSet images, Options o, Progress progress) {
        return of(sd, images, o, Checkpoint.NONE, progress);
    }

    /**
     * Runs the experiments image by image: each image's maps (and those of its copy cropped by one token, per token
     * size) are finished, saved to {@code checkpoint} and kept; an image the checkpoint already holds is read back
     * instead of extracted.
     */
    public static Result of(StableDiffusion sd, ImageSet images, Options o, Checkpoint checkpoint, Progress progress) {
        if (o.has(Experiment.PROBE)) {
            PositionProbe.checkImages(images.size(), o.probe());             // before any work, not after it
        }
        List<Map<String, MapShape>> shapes = FeatureStream.shapes(sd, o.sampling().points(), images);
        boolean groups = o.has(Experiment.GROUPS);
        PaperMaps maps = new PaperMaps(o.sampling().points(), shapes, groups ? o.groupLimit() : 0, o.has(Experiment.PROBE));
        Map<String, List<String>> byToken = groups ? byTokenSize(images.entry(0), shapes.getFirst()) : Map.of();
        Map<String, List<ImageMaps>> cropped = new LinkedHashMap<>();
        byToken.values().forEach(ms -> ms.forEach(m -> cropped.put(m, new ArrayList<>())));
        progress.start("images", images.size());
        int resumed = 0;
        for (int i = 0; i < images.size(); i++) {
            List<String> croppedModules = croppedModules(images, i, o, shapes, byToken);
            PaperState.ImageState s = checkpoint.load(i, shapes.get(i), croppedModules);
            if (s == null) {
                s = extract(sd, images, i, o, shapes.get(i), byToken, croppedModules);
                checkpoint.save(i, s);
            } else {
                resumed++;
            }
            s.maps().forEach(maps::restore);
            s.cropped().forEach((m, im) -> cropped.get(m).add(im));
            progress.advance(i + 1, "image " + (i + 1) + "/" + images.size() + " " + images.entry(i).name()
                    + (resumed > 0 ? " (" + resumed + " from the earlier run)" : ""));
        }
        progress.finish();
        return finish(o, images.entries().stream().map(ImageSet.Entry::name).toList(), maps, cropped, progress);
    }

    /** One image's maps at every module, and at the modules of each token size those of its cropped copy. */
    static PaperState.ImageState extract(StableDiffusion sd, ImageSet images, int i, Options o, Map<String, MapShape> shapes,
                                         Map<String, List<String>> byToken, List<String> croppedModules) {
        boolean groups = o.has(Experiment.GROUPS) && i < o.groupLimit();
        Map<String, ImageMaps> maps = new LinkedHashMap<>();
        ImageSet one = ImageSet.of(List.of(images.image(i)), List.of(images.entry(i).name()));
        FeatureStream.run(sd, one, o.sampling(), batch -> maps.put(batch.point(), PaperMaps.image(i,
                batch.value().toFloatArray(), shapes.get(batch.point()), groups, o.has(Experiment.PROBE))), Progress.NONE);
        return new PaperState.ImageState(maps, cropped(sd, images, i, o, shapes, byToken, croppedModules));
    }

    /**
     * The maps of image {@code one}'s copy cropped by one token on every side (the group experiment's image-cropped
     * variant), at the modules of each token size where that leaves at least 8 pixels; {@code shapes} are its maps'.
     * What {@code batch} computes per image, image by image as {@link #of} does.
     */
    public static Map<String, ImageMaps> croppedMaps(StableDiffusion sd, ImageSet one, Options o, Map<String, MapShape> shapes) {
        Map<String, List<String>> byToken = byTokenSize(one.entry(0), shapes);
        return cropped(sd, one, 0, o, shapes, byToken, croppedModules(one, 0, o, List.of(shapes), byToken));
    }

    private static Map<String, ImageMaps> cropped(StableDiffusion sd, ImageSet images, int i, Options o,
                                                  Map<String, MapShape> shapes, Map<String, List<String>> byToken,
                                                  List<String> croppedModules) {
        Map<String, ImageMaps> cropped = new LinkedHashMap<>();
        for (List<String> modules : byToken.values()) {
            if (!croppedModules.contains(modules.getFirst())) {
                continue;
            }
            int[] t = tokenPixels(images.entry(i).width(), images.entry(i).height(), shapes.get(modules.getFirst()));
            RgbImage c = crop(images.image(i), t[0], t[1]);
            ImageSet set = ImageSet.of(List.of(c), List.of(images.entry(i).name()));
            Map<String, MapShape> cs = FeatureStream.shapes(sd, modules, c.width(), c.height());
            Sampling s = new Sampling(modules, o.sampling().timesteps(), 1, 1, o.sampling().seed(), o.sampling().prompt(),
                    o.sampling().latent(), o.sampling().unitRange());
            FeatureStream.run(sd, set, s, batch -> cropped.put(batch.point(), PaperMaps.image(i, batch.value().toFloatArray(),
                    cs.get(batch.point()), true, false)), Progress.NONE);
        }
        return cropped;
    }

    /** The modules whose image-cropped variant image i takes part in (none past the group limit or too small). */
    static List<String> croppedModules(ImageSet images, int i, Options o, List<Map<String, MapShape>> shapes,
                                       Map<String, List<String>> byToken) {
        if (!o.has(Experiment.GROUPS) || i >= o.groupLimit()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (List<String> modules : byToken.values()) {
            int[] t = tokenPixels(images.entry(i).width(), images.entry(i).height(), shapes.get(i).get(modules.getFirst()));
            if (images.entry(i).width() - 2 * t[0] >= 8 && images.entry(i).height() - 2 * t[1] >= 8) {
                out.addAll(modules);
            }
        }
        return out;
    }

    /** The modules by token size (pixels per token) at the first image's size. */
    static Map<String, List<String>> byTokenSize(ImageSet.Entry first, Map<String, MapShape> shapes) {
        Map<String, List<String>> byToken = new LinkedHashMap<>();
        for (var e : shapes.entrySet()) {
            int[] t = tokenPixels(first.width(), first.height(), e.getValue());
            byToken.computeIfAbsent(t[0] + "x" + t[1], k -> new ArrayList<>()).add(e.getKey());
        }
        return byToken;
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
