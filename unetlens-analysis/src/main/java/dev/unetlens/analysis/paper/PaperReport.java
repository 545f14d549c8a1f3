package dev.unetlens.analysis.paper;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.Outputs;
import dev.unetlens.analysis.Units;
import dev.unetlens.analysis.paper.AnomalyLabels.Label;
import dev.unetlens.analysis.paper.PaperMaps.ImageMaps;
import dev.unetlens.analysis.paper.PaperRun.Experiment;
import dev.unetlens.analysis.paper.PaperRun.ModuleAnomalies;
import dev.unetlens.analysis.paper.PaperRun.Result;
import dev.unetlens.hook.PaperModules;
import dev.unetlens.io.Npy;
import dev.unetlens.io.OutputDirectory;

import java.util.List;

/**
 * Writes a {@link PaperRun} result: {@code results.json}; per module the norm maps {@code norms/<module>.npy}
 * (N, H, W) float32 and the group matrices {@code groups/<module>.npy} (variants, 3, 3) float64, for the explorer to
 * show without recomputing; the ratios {@code anomaly_ratios.npy} (modules, labels), the detected patches
 * {@code anomalies.json} and, in the paper's labeller format, {@code detected_anomalies.npy}; the probe's
 * {@code probe_accuracy.npy} (modules, epochs, grids) like the paper's {@code accuracies_cls}; and the figures
 * ({@link PaperFigures}).
 */
public final class PaperReport {
    private PaperReport() {
    }

    public static void write(Result r, ObjectNode request, OutputDirectory out) {
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        json.put("analysis", "paper");
        json.put("what", "Loos & Linhardt (ICLR 2025 DeLTa): positional probe, token-group similarity, high-norm anomalies");
        json.set("request", request(r, request));
        json.set("images", JsonNodeFactory.instance.arrayNode().addAll(r.names().stream().map(JsonNodeFactory.instance::textNode).toList()));
        ArrayNode modules = json.putArray("modules");
        for (String m : r.maps().modules()) {
            modules.add(moduleJson(r, m, out));
        }
        if (r.anomalies() != null) {
            json.set("anomalies", anomaliesJson(r, out));
        }
        if (r.options().has(Experiment.PROBE)) {
            writeProbe(r, out);
        }
        PaperFigures.write(r, out);
        Outputs.writeResults(out, json);
    }

    private static ObjectNode request(Result r, ObjectNode extra) {
        PaperRun.Options o = r.options();
        ObjectNode q = o.sampling().toJson();
        q.set("experiments", JsonNodeFactory.instance.arrayNode().addAll(o.experiments().stream()
                .map(e -> JsonNodeFactory.instance.textNode(e.name().toLowerCase(java.util.Locale.ROOT))).toList()));
        if (o.has(Experiment.GROUPS)) {
            ObjectNode g = q.putObject("groups");
            g.put("limit", o.groupLimit());
            g.put("groups", "corner: the 4 corner tokens; border: the rest of the outer ring; other: the inside");
            g.put("similarity", "cosine a·b/(‖a‖‖b‖), sdhelper's cosine_similarity without ε; a zero token has cosine 0");
            g.put("mean", "per image, over all pairs of tokens of the two groups, a token's similarity with itself left out;"
                    + " then the mean over images");
            g.set("variants", JsonNodeFactory.instance.arrayNode().add("plain: the whole map")
                    .add("ring_dropped: the similarity map without its outer ring (paper: F.pad(maps, [-1]*8), 'repr cropped');"
                            + " groups of the inner (H-2)x(W-2) map")
                    .add("image_cropped: the image cropped by one token (image size // map size) on every side, extracted"
                            + " again (paper: 'cropped')"));
            g.put("paper_difference", "the paper divides by pair counts of the uncropped n x n map for both cropped variants"
                    + " and subtracts a self-similarity of exactly 1; unetlens counts the pairs of the map it averages");
        }
        if (o.has(Experiment.ANOMALIES)) {
            ObjectNode a = q.putObject("anomalies");
            a.put("reference", o.reference());
            a.put("labels", o.labels() != null ? "from --labels" : "the patches detected at the reference module");
            a.put("k", o.k());
            a.put("detector", "tokens with norm > median + k·1.4826·MAD of the map's norms, 8-connected into patches");
            a.put("ratio", "s = H / H_ref; window at (floor(y·s), floor(x·s)), side max(1, floor(2s)), cut at the edge;"
                    + " mean norm in the window / mean norm of the map; mean and population std over the labels");
            a.put("match", "a patch is a hit when, grown by " + Anomalies.MATCH_MARGIN + " token, it meets a label's window");
        }
        if (o.has(Experiment.PROBE)) {
            PositionProbe.Settings s = o.probe();
            ObjectNode p = q.putObject("probe");
            p.put("epochs", s.epochs());
            p.put("batch", s.batch());
            p.put("lr", s.lr());
            p.put("seed", s.seed());
            p.put("train_share", s.trainShare());
            p.set("grids", JsonNodeFactory.instance.arrayNode().addAll(s.grids().stream().map(JsonNodeFactory.instance::numberNode).toList()));
            p.put("model", "Linear(C, H + W): H row logits and W column logits, loss the mean of the two softmax"
                    + " cross-entropies; DJL training API, PyTorch engine, Adam (beta 0.9, 0.999, eps 1e-8)");
            p.put("same_as_paper", "for square maps this is the paper's Linear(C, w + h) viewed as (w, 2): the same"
                    + " parameters with outputs interleaved, the same loss");
            p.put("accuracy", "both coordinates right at grid g: floor(p·g/n) = floor(l·g/n) on each axis");
            p.put("accuracy_per_axis", "the paper's script: the mean over the two coordinates");
        }
        q.setAll(extra);
        return q;
    }

    private static ObjectNode moduleJson(Result r, String m, OutputDirectory out) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("module", m);
        o.put("label", PaperModules.shortLabel(m));
        MapShape s = r.maps().shape(0, m);
        o.set("map_shape", Outputs.shapeJson(new long[] {s.channels(), s.height(), s.width()}));
        String stem = Outputs.stem(m);
        List<ImageMaps> maps = r.maps().maps(m);
        writeNorms(out, "norms/" + stem + ".npy", maps, s);
        o.put("norms", "norms/" + stem + ".npy");
        Outputs.put(o, "mean_norm", maps.stream().mapToDouble(im -> im.norms().mean()).average().orElse(Double.NaN));
        GroupSimilarity g = r.groups().get(m);
        if (g != null) {
            ObjectNode gj = o.putObject("groups");
            gj.put("images", g.images());
            gj.set("plain", Outputs.quantity(Units.SIMILARITY, Outputs.array(g.plain())));
            gj.set("ring_dropped", Outputs.quantity(Units.SIMILARITY, Outputs.array(g.ring())));
            if (g.cropped() != null) {
                gj.set("image_cropped", Outputs.quantity(Units.SIMILARITY, Outputs.array(g.cropped())));
            }
            int v = g.cropped() == null ? 2 : 3;
            Outputs.writeNpy(out, "groups/" + stem + ".npy", new long[] {v, 3, 3}, g.flat(),
                    "group similarity of " + m + ": (variant: " + String.join(", ", GroupSimilarity.VARIANTS.subList(0, v))
                            + "; corner, border, other; same), float64");
            gj.put("file", "groups/" + stem + ".npy");
        }
        if (r.anomalies() != null) {
            ModuleAnomalies a = r.anomalies().modules().get(m);
            ObjectNode aj = o.putObject("anomalies");
            Outputs.put(aj, "ratio_mean", a.ratio().mean());
            Outputs.put(aj, "ratio_std", a.ratio().std());
            aj.put("ratio_unit", "mean norm in the window / mean norm of the map (dimensionless)");
            aj.put("patches", a.found().size());
            aj.put("images_with_patches", a.found().stream().mapToInt(Anomalies.Found::image).distinct().count());
            if (a.score() != null) {
                aj.put("hits", a.score().hits());
                aj.put("labels_found", a.score().found());
                Outputs.put(aj, "precision", a.score().precision());
                Outputs.put(aj, "recall", a.score().recall());
            }
        }
        PositionProbe.Result p = r.probe().get(m);
        if (p != null) {
            probeJson(o.putObject("probe"), p);
        }
        return o;
    }

    /** One module's probe as results.json gives it (also {@code batch --probe}'s). */
    public static void probeJson(ObjectNode pj, PositionProbe.Result p) {
        pj.put("train_images", p.train());
        pj.put("test_images", p.test());
        pj.set("loss", Outputs.array(p.loss()));
        pj.set("accuracy", Outputs.quantity("share of test tokens, [epoch][grid]", Outputs.array(p.accuracy())));
        pj.set("accuracy_per_axis", Outputs.quantity("share of test coordinates, [epoch][grid]", Outputs.array(p.perAxis())));
        pj.set("chance", Outputs.array(p.chance()));
    }

    private static void writeNorms(OutputDirectory out, String name, List<ImageMaps> maps, MapShape s) {
        int p = s.positions();
        float[] v = new float[maps.size() * p];
        for (int i = 0; i < maps.size(); i++) {
            double[] n = maps.get(i).norms().norms();
            for (int k = 0; k < p; k++) {
                v[i * p + k] = (float) n[k];
            }
        }
        Outputs.writeNpy(out, name, new long[] {maps.size(), s.height(), s.width()}, v,
                "L2 norm over channels of every token, (image, H, W), float32");
    }

    private static ObjectNode anomaliesJson(Result r, OutputDirectory out) {
        PaperRun.AnomalyResult a = r.anomalies();
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("reference", r.options().reference());
        o.set("reference_shape", Outputs.shapeJson(new long[] {a.referenceShape().height(), a.referenceShape().width()}));
        o.put("labels", a.labels().size());
        o.put("labels_from", a.fromFile() ? "--labels" : "detected at the reference module");
        List<String> modules = r.maps().modules();
        double[] ratios = new double[modules.size() * a.labels().size()];
        for (int i = 0; i < modules.size(); i++) {
            System.arraycopy(a.modules().get(modules.get(i)).ratio().values(), 0, ratios, i * a.labels().size(), a.labels().size());
        }
        Outputs.writeNpy(out, "anomaly_ratios.npy", new long[] {modules.size(), a.labels().size()}, ratios,
                "the paper's norm ratio of each label (columns) at each module (rows, results.json's order), float64");
        List<Label> detected = Anomalies.asLabels(a.modules().get(r.options().reference()).found());
        out.write("detected_anomalies.npy", s -> s.write(Npy.toBytes(AnomalyLabels.toNpy(detected))),
                "patches detected at " + r.options().reference() + " in the paper's labeller format: int64 rows (image, x, y)");
        ObjectNode patches = JsonNodeFactory.instance.objectNode();
        patches.put("what", "every detected patch: image, module, upper-left token (row, col), bounding box, tokens,"
                + " ratio (mean norm of its tokens / mean norm of the map), peak (largest norm / mean norm)");
        ArrayNode list = patches.putArray("patches");
        for (String m : modules) {
            for (Anomalies.Found f : a.modules().get(m).found()) {
                ObjectNode e = list.addObject();
                e.put("image", f.image());
                e.put("name", r.names().get(f.image()));
                e.put("module", m);
                e.put("row", f.patch().row());
                e.put("col", f.patch().col());
                e.put("rows", f.patch().rows());
                e.put("cols", f.patch().cols());
                e.put("tokens", f.patch().tokens());
                e.put("ratio", f.patch().ratio());
                e.put("peak", f.patch().peak());
            }
        }
        Outputs.writeJson(out, "anomalies.json", patches, "every detected high-norm patch");
        o.put("files", "anomaly_ratios.npy, anomalies.json, detected_anomalies.npy");
        return o;
    }

    private static void writeProbe(Result r, OutputDirectory out) {
        List<String> modules = r.maps().modules();
        PositionProbe.Settings s = r.options().probe();
        int e = s.epochs();
        int g = s.grids().size();
        double[] v = new double[modules.size() * e * g];
        for (int i = 0; i < modules.size(); i++) {
            double[][] acc = r.probe().get(modules.get(i)).accuracy();
            for (int k = 0; k < e; k++) {
                System.arraycopy(acc[k], 0, v, (i * e + k) * g, g);
            }
        }
        Outputs.writeNpy(out, "probe_accuracy.npy", new long[] {modules.size(), e, g}, v,
                "probe accuracy (both coordinates right): (module, epoch, grid " + s.grids() + "), float64");
    }
}
