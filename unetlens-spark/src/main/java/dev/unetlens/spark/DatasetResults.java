package dev.unetlens.spark;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.analysis.Outputs;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dataset's results from the committed tables, by Spark: per module the mean norm, the channels' mean |x| over
 * images, the token-group similarity matrices (each image's sums / counts, averaged over images, as {@code analyze
 * paper}), and the paper's anomaly ratio (mean and population std over every label: the patches detected at the
 * reference module) with the patches found. The same numbers as {@code analyze} over the same images, up to the order
 * of float64 additions.
 */
public final class DatasetResults {
    private static final JsonNodeFactory J = JsonNodeFactory.instance;
    private static final List<String> VARIANTS = List.of("plain", "ring", "cropped");
    private static final List<String> NAMES = List.of("plain", "ring_dropped", "image_cropped");

    private DatasetResults() {
    }

    public static ObjectNode of(SparkSession spark, Path tables, List<String> modules, String reference) {
        spark.read().parquet(tables.resolve(Tables.FEATURES).toString()).createOrReplaceTempView("features");
        spark.read().parquet(tables.resolve(Tables.ANOMALIES).toString()).createOrReplaceTempView("anomalies");
        Map<String, ObjectNode> byModule = new LinkedHashMap<>();
        modules.forEach(m -> byModule.put(m, J.objectNode().put("module", m)));
        for (Row r : spark.sql("SELECT module, count(*), avg(norm_mean), first(channels), first(height), first(width)"
                + " FROM features GROUP BY module").collectAsList()) {
            ObjectNode o = byModule.get(r.getString(0));
            o.put("images", r.getLong(1));
            Outputs.put(o, "mean_norm", r.getDouble(2));
            o.set("map_shape", J.arrayNode().add(r.getInt(3)).add(r.getInt(4)).add(r.getInt(5)));
        }
        perElement(spark, "channel_mean_abs", "features").forEach((m, v) -> byModule.get(m).set("channel_mean_abs", Outputs.array(v)));
        for (int k = 0; k < VARIANTS.size(); k++) {
            String v = VARIANTS.get(k);
            String means = "transform(group_" + v + "_sums, (s, i) -> CASE WHEN group_" + v + "_counts[i] = 0"
                    + " THEN double('NaN') ELSE s / group_" + v + "_counts[i] END)";
            spark.sql("SELECT module, " + means + " AS m FROM features WHERE group_" + v + "_sums IS NOT NULL")
                    .createOrReplaceTempView("group_means");
            String name = NAMES.get(k);
            Map<String, double[]> means3 = perElement(spark, "m", "group_means");
            for (String m : modules) {                                 // no image: NaN, as analyze
                double[] x = means3.getOrDefault(m, java.util.stream.DoubleStream.generate(() -> Double.NaN).limit(9).toArray());
                groups(byModule.get(m)).set(name, Outputs.quantity("cosine similarity", Outputs.array(new double[][] {
                        {x[0], x[1], x[2]}, {x[3], x[4], x[5]}, {x[6], x[7], x[8]}})));
            }
            if (k == 0) {
                for (Row r : spark.sql("SELECT module, count(*) FROM group_means GROUP BY module").collectAsList()) {
                    groups(byModule.get(r.getString(0))).put("images", r.getLong(1));
                }
            }
        }
        for (Row r : spark.sql("SELECT module, count(v), avg(v), stddev_pop(v) FROM features"
                + " LATERAL VIEW explode(anomaly_ratios) t AS v GROUP BY module").collectAsList()) {
            ObjectNode a = anomalies(byModule.get(r.getString(0)));
            Outputs.put(a, "ratio_mean", r.isNullAt(2) ? Double.NaN : r.getDouble(2));
            Outputs.put(a, "ratio_std", r.isNullAt(3) ? Double.NaN : r.getDouble(3));
        }
        for (Row r : spark.sql("SELECT module, count(*), count(DISTINCT path) FROM anomalies GROUP BY module").collectAsList()) {
            anomalies(byModule.get(r.getString(0))).put("patches", r.getLong(1)).put("images_with_patches", r.getLong(2));
        }
        long labels = spark.sql("SELECT count(*) FROM anomalies WHERE module = '" + reference.replace("'", "") + "'")
                .first().getLong(0);
        ObjectNode json = J.objectNode();
        json.put("analysis", "batch");
        json.put("images", spark.sql("SELECT count(DISTINCT path) FROM features").first().getLong(0));
        ArrayNode ms = json.putArray("modules");
        byModule.values().forEach(ms::add);
        json.putObject("anomalies").put("reference", reference).put("labels", labels)
                .put("labels_from", "detected at the reference module");
        return json;
    }

    private static ObjectNode groups(ObjectNode module) {
        return module.has("groups") ? (ObjectNode) module.get("groups") : module.putObject("groups");
    }

    private static ObjectNode anomalies(ObjectNode module) {
        if (!module.has("anomalies")) {
            ObjectNode a = module.putObject("anomalies").put("patches", 0).put("images_with_patches", 0);
            Outputs.put(a, "ratio_mean", Double.NaN);                    // no label: as analyze, no ratio
            Outputs.put(a, "ratio_std", Double.NaN);
        }
        return (ObjectNode) module.get("anomalies");
    }

    /** The mean over rows of each element of array column {@code column}, by module. */
    private static Map<String, double[]> perElement(SparkSession spark, String column, String view) {
        Dataset<Row> d = spark.sql("SELECT module, pos, avg(CAST(x AS DOUBLE)) FROM " + view
                + " LATERAL VIEW posexplode(" + column + ") t AS pos, x GROUP BY module, pos ORDER BY module, pos");
        Map<String, double[]> out = new LinkedHashMap<>();
        Map<String, List<Double>> acc = new LinkedHashMap<>();
        for (Row r : d.collectAsList()) {
            acc.computeIfAbsent(r.getString(0), k -> new java.util.ArrayList<>()).add(r.isNullAt(2) ? Double.NaN : r.getDouble(2));
        }
        acc.forEach((m, l) -> out.put(m, l.stream().mapToDouble(Double::doubleValue).toArray()));
        return out;
    }
}
