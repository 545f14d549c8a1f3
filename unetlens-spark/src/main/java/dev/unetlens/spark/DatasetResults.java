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
 * The dataset's results from the committed tables, by Spark: per module and timestep, over the draw rows (every
 * image and draw: what {@code analyze} averages over images), the mean norm, the channels' mean |x| over
 * images, the token-group similarity matrices (each image's sums / counts, averaged over images, as {@code analyze
 * paper}), and the paper's anomaly ratio (mean and population std over every label: the patches detected at the
 * reference module of the same draw) with the patches found, and with more than one draw the mean over images of the
 * dispersion (the aggregate rows). The same numbers as {@code analyze} over the same images, up to the order
 * of float64 additions.
 */
public final class DatasetResults {
    private static final JsonNodeFactory J = JsonNodeFactory.instance;
    private static final List<String> VARIANTS = List.of("plain", "ring", "cropped");
    private static final List<String> NAMES = List.of("plain", "ring_dropped", "image_cropped");

    private DatasetResults() {
    }

    public static ObjectNode of(SparkSession spark, Path tables, List<String> modules, List<Integer> timesteps,
                                String reference) {
        Dataset<Row> all = spark.read().parquet(tables.resolve(Tables.FEATURES).toString());
        all.where("sample IS NOT NULL").createOrReplaceTempView("features");
        all.where("sample IS NULL").createOrReplaceTempView("spreads");
        spark.read().parquet(tables.resolve(Tables.ANOMALIES).toString()).createOrReplaceTempView("anomalies");
        Map<String, ObjectNode> byKey = new LinkedHashMap<>();
        for (int t : timesteps) {
            modules.forEach(m -> byKey.put(key(m, t), J.objectNode().put("module", m).put("timestep", t)));
        }
        for (Row r : spark.sql("SELECT module, timestep, count(DISTINCT path), count(*), avg(norm_mean), first(channels),"
                + " first(height), first(width) FROM features GROUP BY module, timestep").collectAsList()) {
            ObjectNode o = byKey.get(key(r.getString(0), r.getInt(1)));
            o.put("images", r.getLong(2)).put("draws", r.getLong(3));
            Outputs.put(o, "mean_norm", r.getDouble(4));
            o.set("map_shape", J.arrayNode().add(r.getInt(5)).add(r.getInt(6)).add(r.getInt(7)));
        }
        perElement(spark, "channel_mean_abs", "features").forEach((k, v) -> byKey.get(k).set("channel_mean_abs", Outputs.array(v)));
        for (int k = 0; k < VARIANTS.size(); k++) {
            String v = VARIANTS.get(k);
            String means = "transform(group_" + v + "_sums, (s, i) -> CASE WHEN group_" + v + "_counts[i] = 0"
                    + " THEN double('NaN') ELSE s / group_" + v + "_counts[i] END)";
            spark.sql("SELECT module, timestep, " + means + " AS m FROM features WHERE group_" + v + "_sums IS NOT NULL")
                    .createOrReplaceTempView("group_means");
            String name = NAMES.get(k);
            Map<String, double[]> means3 = perElement(spark, "m", "group_means");
            byKey.forEach((key, o) -> {                                      // no image: NaN, as analyze
                double[] x = means3.getOrDefault(key, java.util.stream.DoubleStream.generate(() -> Double.NaN).limit(9).toArray());
                groups(o).set(name, Outputs.quantity("cosine similarity", Outputs.array(new double[][] {
                        {x[0], x[1], x[2]}, {x[3], x[4], x[5]}, {x[6], x[7], x[8]}})));
            });
            if (k == 0) {
                for (Row r : spark.sql("SELECT module, timestep, count(*) FROM group_means GROUP BY module, timestep").collectAsList()) {
                    groups(byKey.get(key(r.getString(0), r.getInt(1)))).put("images", r.getLong(2));
                }
            }
        }
        for (Row r : spark.sql("SELECT module, timestep, count(v), avg(v), stddev_pop(v) FROM features"
                + " LATERAL VIEW explode(anomaly_ratios) t AS v GROUP BY module, timestep").collectAsList()) {
            ObjectNode a = anomalies(byKey.get(key(r.getString(0), r.getInt(1))));
            Outputs.put(a, "ratio_mean", r.isNullAt(3) ? Double.NaN : r.getDouble(3));
            Outputs.put(a, "ratio_std", r.isNullAt(4) ? Double.NaN : r.getDouble(4));
        }
        for (Row r : spark.sql("SELECT module, timestep, count(*), count(DISTINCT path) FROM anomalies GROUP BY module, timestep")
                .collectAsList()) {
            anomalies(byKey.get(key(r.getString(0), r.getInt(1)))).put("patches", r.getLong(2)).put("images_with_patches", r.getLong(3));
        }
        byKey.values().forEach(DatasetResults::anomalies);
        for (Row r : spark.sql("SELECT module, timestep, count(*), avg(dispersion_mean) FROM spreads GROUP BY module, timestep")
                .collectAsList()) {
            ObjectNode d = byKey.get(key(r.getString(0), r.getInt(1))).putObject("dispersion");
            d.put("images", r.getLong(2));
            Outputs.put(d, "mean_std", r.getDouble(3));
        }
        long labels = spark.sql("SELECT count(*) FROM anomalies WHERE module = '" + reference.replace("'", "") + "'")
                .first().getLong(0);
        ObjectNode json = J.objectNode();
        json.put("analysis", "batch");
        json.put("images", spark.sql("SELECT count(DISTINCT path) FROM features").first().getLong(0));
        ArrayNode ms = json.putArray("modules");
        byKey.values().forEach(ms::add);
        json.putObject("anomalies").put("reference", reference).put("labels", labels)
                .put("labels_from", "detected at the reference module, in the same draw");
        return json;
    }

    private static String key(String module, int timestep) {
        return module + "@" + timestep;
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

    /** The mean over rows of each element of array column {@code column}, by module and timestep ({@link #key}). */
    private static Map<String, double[]> perElement(SparkSession spark, String column, String view) {
        Dataset<Row> d = spark.sql("SELECT module, timestep, pos, avg(CAST(x AS DOUBLE)) FROM " + view
                + " LATERAL VIEW posexplode(" + column + ") t AS pos, x GROUP BY module, timestep, pos"
                + " ORDER BY module, timestep, pos");
        Map<String, double[]> out = new LinkedHashMap<>();
        Map<String, List<Double>> acc = new LinkedHashMap<>();
        for (Row r : d.collectAsList()) {
            acc.computeIfAbsent(key(r.getString(0), r.getInt(1)), k -> new java.util.ArrayList<>())
                    .add(r.isNullAt(3) ? Double.NaN : r.getDouble(3));
        }
        acc.forEach((m, l) -> out.put(m, l.stream().mapToDouble(Double::doubleValue).toArray()));
        return out;
    }
}
