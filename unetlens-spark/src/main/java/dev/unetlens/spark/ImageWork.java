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
 * The work unit: one image (its one draw at the timestep, every module) turned into table rows: a features row per
 * module, an anomalies row per detected patch, or one errors row when the image cannot be used. The same reductions
 * as {@code analyze paper} and {@code analyze channels}, per image, so that dataset results are sums over rows.
 */
public final class ImageWork {
    private ImageWork() {
    }

    /** What one module's map leaves: the paper's norms and group sums, the channel means and the pooled features. */
    record ModuleMaps(ImageMaps paper, float[] channelMeanAbs, float[] pooled) {
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
        PaperRun.Options o = r.paper(s);
        Map<String, MapShape> shapes = FeatureStream.shapes(sd, s.points(), img.width(), img.height());
        Map<String, ModuleMaps> maps = new LinkedHashMap<>();
        TensorFile tensors = r.tensors() == null ? null : new TensorFile(Path.of(r.tensors()), in.path());
        FeatureStream.run(sd, one, s, batch -> {
            MapShape sh = shapes.get(batch.point());
            float[] x = batch.value().toFloatArray();
            maps.put(batch.point(), new ModuleMaps(PaperMaps.image(0, x, sh, true, false), channelMeanAbs(x, sh),
                    r.spatialMean() ? spatialMean(x, sh) : null));
            if (tensors != null) {
                tensors.add(batch.point(), sh, x);
            }
        }, Progress.NONE);
        Map<String, ImageMaps> cropped = PaperRun.croppedMaps(sd, one, o, shapes);
        String tensorFile = tensors == null ? null : tensors.write();
        ImageMaps ref = maps.get(r.reference()).paper();
        List<Label> labels = Anomalies.asLabels(Anomalies.detect(List.of(ref), r.k()));
        List<Row> rows = new ArrayList<>();
        for (var e : maps.entrySet()) {
            ImageMaps m = e.getValue().paper();
            double[] ratios = labels.isEmpty() ? new double[0]
                    : Anomalies.ratios(List.of(m), labels, ref.norms().height()).values();
            rows.add(featureRow(r, in, seed, e.getKey(), shapes.get(e.getKey()), e.getValue(), cropped.get(e.getKey()),
                    ratios, tensorFile));
            for (Anomalies.Found f : Anomalies.detect(List.of(m), r.k())) {
                rows.add(anomalyRow(r, in, seed, e.getKey(), m, f.patch()));
            }
        }
        return rows;
    }

    private static Row featureRow(BatchRequest r, ImageInput in, long seed, String module, MapShape sh, ModuleMaps mm,
                                  ImageMaps cropped, double[] ratios, String tensorFile) {
        ImageMaps m = mm.paper();
        double[] norms = m.norms().norms();
        double mean = m.norms().mean();
        double var = 0;
        for (double v : norms) {
            var += (v - mean) * (v - mean);
        }
        var b = new Tables.RowBuilder(Tables.FEATURES, in, seed).set("module", module).set("timestep", r.timestep())
                .set("sample", 0).set("channels", sh.channels()).set("height", sh.height()).set("width", sh.width())
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

    private static Row anomalyRow(BatchRequest r, ImageInput in, long seed, String module, ImageMaps m, Patch p) {
        return new Tables.RowBuilder(Tables.ANOMALIES, in, seed).set("module", module).set("timestep", r.timestep())
                .set("sample", 0).set("height", m.norms().height()).set("width", m.norms().width()).set("row", p.row())
                .set("col", p.col()).set("rows", p.rows()).set("cols", p.cols()).set("tokens", p.tokens())
                .set("ratio", p.ratio()).set("peak", p.peak()).build();
    }

    /** Mean |x| of each channel of a map [C, H, W] (float64 sums). */
    static float[] channelMeanAbs(float[] x, MapShape s) {
        int p = s.positions();
        float[] out = new float[s.channels()];
        for (int c = 0; c < out.length; c++) {
            double sum = 0;
            for (int i = 0; i < p; i++) {
                sum += Math.abs(x[c * p + i]);
            }
            out[c] = (float) (sum / p);
        }
        return out;
    }

    /** The spatial mean of each channel of a map [C, H, W] (float64 sums): the pooled feature vector. */
    static float[] spatialMean(float[] x, MapShape s) {
        int p = s.positions();
        float[] out = new float[s.channels()];
        for (int c = 0; c < out.length; c++) {
            double sum = 0;
            for (int i = 0; i < p; i++) {
                sum += x[c * p + i];
            }
            out[c] = (float) (sum / p);
        }
        return out;
    }
}
