package dev.unetlens.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.paper.PaperMaps.ImageMaps;
import dev.unetlens.analysis.paper.PaperReport;
import dev.unetlens.analysis.paper.PositionProbe;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The paper's positional probe ({@link PositionProbe}, as {@code analyze paper}) trained on the driver from the tokens
 * table, module by module: the images in path order, the first 80 % to train on. A probe needs every token of every
 * image (the pooled features hold none: a spatial mean has no position left to predict), so one module's tokens of all
 * images are collected to the driver; a module whose tokens would take more than half the driver's free heap is left
 * out, and results.json says how many bytes it needed.
 */
public final class TableProbe {
    private TableProbe() {
    }

    /** Adds each module's probe (at {@code timestep}) to its entry in {@code results}' modules. */
    public static void add(SparkSession spark, Path tables, int timestep, ObjectNode results) {
        Dataset<Row> tokens = spark.read().parquet(tables.resolve(Tables.TOKENS).toString());
        Map<String, Row> sizes = new HashMap<>();
        for (Row r : tokens.groupBy("module").agg(functions.count("*"), functions.first("channels"), functions.first("height"),
                functions.first("width")).collectAsList()) {
            sizes.put(r.getString(0), r);
        }
        for (JsonNode entry : results.path("modules")) {
            Row size = sizes.get(entry.path("module").asText());
            if (entry.path("timestep").asInt() != timestep || size == null) {
                continue;
            }
            MapShape shape = new MapShape(size.getInt(2), size.getInt(3), size.getInt(4));
            long bytes = size.getLong(1) * shape.size() * 4L;
            Runtime rt = Runtime.getRuntime();
            long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
            ObjectNode pj = ((ObjectNode) entry).putObject("probe");
            if (bytes > free / 2) {
                pj.put("skipped", String.format(Locale.ROOT, "%d images' tokens take %.1f GB, over half the driver's free"
                        + " heap (%.1f GB); give the driver more memory (spark.driver.memory)", size.getLong(1), bytes / 1e9,
                        free / 1e9));
                continue;
            }
            Dataset<Row> rows = tokens.where(functions.col("module").equalTo(size.getString(0)));
            PaperReport.probeJson(pj, PositionProbe.train(maps(rows), shape, PositionProbe.Settings.PAPER));
        }
    }

    /** The module's tokens, image by image in path order. */
    private static List<ImageMaps> maps(Dataset<Row> rows) {
        List<ImageMaps> out = new ArrayList<>();
        for (Row r : rows.orderBy("path").select("token_values").collectAsList()) {
            List<Float> v = r.getList(0);
            float[] t = new float[v.size()];
            for (int i = 0; i < t.length; i++) {
                t[i] = v.get(i);
            }
            out.add(new ImageMaps(out.size(), null, null, null, t));
        }
        return out;
    }
}
