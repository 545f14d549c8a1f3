package dev.unetlens.spark;

import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.images.ImageFiles;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.analysis.images.Preprocess;
import dev.unetlens.analysis.paper.AnomalyDetector.Patch;
import dev.unetlens.analysis.paper.AnomalyLabels.Label;
import dev.unetlens.analysis.paper.Anomalies;
import dev.unetlens.analysis.paper.PaperMaps;
import dev.unetlens.analysis.paper.PaperMaps.ImageMaps;
import dev.unetlens.analysis.paper.PaperRun;
import dev.unetlens.io.RgbImage;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;
import org.apache.spark.sql.Row;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The work unit: one image (every draw at every timestep, every module) turned into table rows: a features row per
 * (module, timestep, draw), with more than one draw an aggregate features row per (module, timestep) (sample null:
 * the dispersion over the draws), an anomalies row per detected patch, or one errors row when the image cannot be
 * used. The same reductions as {@code analyze paper}, {@code analyze channels} and {@code analyze dispersion}, per
 * image, so that dataset results are sums over rows.
 */
public final class ImageWork {
    private ImageWork() {
    }

    /** The rows of image {@code in}; an unreadable or unusable image gives one errors row with its reason. */
    public static List<Row> rows(StableDiffusion sd, BatchRequest r, ImageInput in) {
        long seed = r.seedFor(in.path());
        RgbImage img;
        try {
            RgbImage raw = ImageFiles.read(Path.of(in.path()));
            Preprocess prep = r.preprocess();
            String skip = prep.skipReason(raw.width(), raw.height());
            if (skip != null) {
                throw new UnetlensException(in.path() + ": " + skip);
            }
            img = prep.apply(raw);
        } catch (UnetlensException e) {
            return List.of(new Tables.RowBuilder(Tables.ERRORS, in, seed).set("error", e.getMessage()).build());
        }
        return rows(sd, r, in, seed, img);
    }

    private static List<Row> rows(StableDiffusion sd, BatchRequest r, ImageInput in, long seed, RgbImage img) {
        ImageSet one = ImageSet.of(List.of(img), List.of(Path.of(in.path()).getFileName().toString()));
        Sampling s = r.sampling(seed, in.prompt());
        Map<String, MapShape> shapes = FeatureStream.shapes(sd, s.points(), img.width(), img.height());
        TensorFile tensors = r.tensors() == null ? null
                : new TensorFile(Path.of(r.tensors()), in.path(), r.timesteps(), r.samples());
        ImageDraws draws = new ImageDraws(shapes, r.spatialMean(), r.samples(), tensors,
                r.probe() ? r.timesteps().getFirst() : null);
        FeatureStream.run(sd, one, s, draws, Progress.NONE);
        String tensorFile = tensors == null ? null : tensors.write();
        List<Row> rows = new ArrayList<>();
        for (int t : r.timesteps()) {
            for (int k = 0; k < r.samples(); k++) {
                Map<String, ImageMaps> cropped = PaperRun.croppedMaps(sd, one, r.paper(s, t, k), shapes);
                rows.addAll(drawRows(r, new Draw(in, seed, t, k), draws.draw(t, k), shapes, cropped, tensorFile));
            }
            draws.spread(t).forEach((module, spread) -> rows.add(spreadRow(in, seed, t, module, shapes.get(module), spread)));
        }
        return rows;
    }

    /** Which draw rows belong to: the image, its seed, the timestep and the draw. */
    private record Draw(ImageInput in, long seed, int timestep, int k) {
        Tables.RowBuilder row(String table, String module) {
            return new Tables.RowBuilder(table, in, seed).set("module", module).set("timestep", timestep).set("sample", k);
        }
    }

    /** One draw's rows: a features row per module, an anomalies row per patch; labels from the reference module. */
    private static List<Row> drawRows(BatchRequest r, Draw d, Map<String, ImageDraws.ModuleMaps> maps,
                                      Map<String, MapShape> shapes, Map<String, ImageMaps> cropped, String tensorFile) {
        ImageMaps ref = maps.get(r.reference()).paper();
        List<Label> labels = Anomalies.asLabels(Anomalies.detect(List.of(ref), r.k()));
        List<Row> rows = new ArrayList<>();
        for (var e : maps.entrySet()) {
            ImageMaps m = e.getValue().paper();
            double[] ratios = labels.isEmpty() ? new double[0]
                    : Anomalies.ratios(List.of(m), labels, ref.norms().height()).values();
            rows.add(featureRow(d, shapes.get(e.getKey()), e.getKey(), e.getValue(), cropped.get(e.getKey()), ratios, tensorFile));
            for (Anomalies.Found f : Anomalies.detect(List.of(m), r.k())) {
                rows.add(anomalyRow(d, e.getKey(), m, f.patch()));
            }
            if (m.tokens() != null) {
                MapShape sh = shapes.get(e.getKey());
                rows.add(d.row(Tables.TOKENS, e.getKey()).set("channels", sh.channels()).set("height", sh.height())
                        .set("width", sh.width()).set("token_values", m.tokens()).build());
            }
        }
        return rows;
    }

    /** The aggregate row of one module at one timestep: the dispersion over the draws (sample null). */
    private static Row spreadRow(ImageInput in, long seed, int timestep, String module, MapShape sh, ImageDraws.Spread s) {
        return new Tables.RowBuilder(Tables.FEATURES, in, seed).set("module", module).set("timestep", timestep)
                .set("channels", sh.channels()).set("height", sh.height()).set("width", sh.width())
                .set("dispersion_mean", s.mean()).set("dispersion_map", s.map()).build();
    }

    private static Row featureRow(Draw d, MapShape sh, String module, ImageDraws.ModuleMaps mm, ImageMaps cropped,
                                  double[] ratios, String tensorFile) {
        ImageMaps m = mm.paper();
        double[] norms = m.norms().norms();
        double mean = m.norms().mean();
        double var = 0;
        for (double v : norms) {
            var += (v - mean) * (v - mean);
        }
        var b = d.row(Tables.FEATURES, module).set("channels", sh.channels()).set("height", sh.height()).set("width", sh.width())
                .set("channel_mean_abs", mm.channelMeanAbs()).set("norm_mean", mean)
                .set("norm_std", Math.sqrt(var / norms.length)).set("anomaly_ratios", ratios)
                .set("pooled", mm.pooled()).set("tensor_file", tensorFile);
        groups(b, "plain", m.plain());
        groups(b, "ring", m.ring());
        if (cropped != null) {
            groups(b, "cropped", cropped.plain());
        }
        return b.build();
    }

    private static void groups(Tables.RowBuilder b, String variant, dev.unetlens.analysis.paper.TokenGroups.Sums s) {
        double[] sums = new double[9];
        long[] counts = new long[9];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                sums[i * 3 + j] = s.sums()[i][j];
                counts[i * 3 + j] = s.counts()[i][j];
            }
        }
        b.set("group_" + variant + "_sums", sums).set("group_" + variant + "_counts", counts);
    }

    private static Row anomalyRow(Draw d, String module, ImageMaps m, Patch p) {
        return d.row(Tables.ANOMALIES, module).set("height", m.norms().height()).set("width", m.norms().width()).set("row", p.row())
                .set("col", p.col()).set("rows", p.rows()).set("cols", p.cols()).set("tokens", p.tokens())
                .set("ratio", p.ratio()).set("peak", p.peak()).build();
    }
}
