package dev.unetlens.spark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The driver's loop: the images not yet committed, a chunk at a time, each chunk one Spark job per table written
 * through Spark's committers into {@code tables/<table>/_pending-N} (a name Spark's readers skip), its {@code done}
 * rows last; then each table's folder is renamed to {@code chunk=N}, {@code done} last. A killed run leaves its chunk
 * in the pending folders, which no reader of the tables sees; {@code --resume} removes them (and a chunk without
 * {@code done} rows, killed between two renames) and computes its images again, so an image is in the tables whole or
 * not at all.
 */
public final class BatchJob {
    /** A chunk's folder while it is written: Spark's readers skip names that start with '_' and have no '='. */
    static final String PENDING = "_pending-";
    static final StructType INPUT = new StructType()
            .add("path", DataTypes.StringType).add("prompt", DataTypes.StringType).add("label", DataTypes.StringType);

    /**
     * @param partitions partitions per chunk
     * @param chunk      images per committed chunk
     * @param maxErrors  stop after more unusable images than this (negative: never)
     */
    public record Settings(int partitions, int chunk, int maxErrors) {
    }

    /** What a run did. */
    public record Outcome(int images, int skipped, int errors, int chunks) {
    }

    private BatchJob() {
    }

    /** Computes every image of {@code inputs} not yet in {@code tables} and commits it chunk by chunk. */
    public static Outcome run(SparkSession spark, BatchRequest r, List<ImageInput> inputs, Path tables, Settings s) {
        Set<String> done = committed(spark, tables);
        List<ImageInput> todo = inputs.stream().filter(i -> !done.contains(i.path())).toList();
        int next = nextChunk(tables);
        int errors = countErrors(spark, tables);
        long t0 = System.nanoTime();
        int chunks = (todo.size() + s.chunk() - 1) / s.chunk();
        for (int c = 0; c < chunks; c++) {
            List<ImageInput> part = todo.subList(c * s.chunk(), Math.min(todo.size(), (c + 1) * s.chunk()));
            errors += chunk(spark, r, part, tables, next + c, s.partitions());
            int finished = Math.min(todo.size(), (c + 1) * s.chunk());
            double secs = (System.nanoTime() - t0) / 1e9;
            System.err.printf(Locale.ROOT, "batch: chunk %d/%d committed: %d/%d images (%d errors), %.1f images/min, ETA %.0f s%n",
                    c + 1, chunks, finished, todo.size(), errors, finished / secs * 60, secs / finished * (todo.size() - finished));
            if (s.maxErrors() >= 0 && errors > s.maxErrors()) {
                throw new UnetlensException(errors + " images could not be used, over --max-errors " + s.maxErrors()
                        + "; their reasons are in " + tables.resolve(Tables.ERRORS) + " (--resume continues after a fix)");
            }
        }
        return new Outcome(todo.size(), inputs.size() - todo.size(), errors, chunks);
    }

    /** One chunk: computed once (kept on disk), written to each table, then its done rows; returns its errors. */
    private static int chunk(SparkSession spark, BatchRequest r, List<ImageInput> part, Path tables, int id, int partitions) {
        List<Row> rows = part.stream().map(i -> RowFactory.create(i.path(), i.prompt(), i.label())).toList();
        Dataset<Row> out = spark.createDataFrame(rows, INPUT).repartition(Math.max(1, Math.min(partitions, part.size())))
                .mapPartitions(new PartitionWork(r), Encoders.row(Tables.ROW))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            String pending = PENDING + String.format(Locale.ROOT, "%05d", id);
            List<String> written = r.probe() ? List.of(Tables.FEATURES, Tables.ANOMALIES, Tables.ERRORS, Tables.TOKENS)
                    : List.of(Tables.FEATURES, Tables.ANOMALIES, Tables.ERRORS);
            for (String t : written) {
                out.filter(functions.col("kind").equalTo(t))
                        .select(Tables.columns(t).stream().map(functions::col).toArray(org.apache.spark.sql.Column[]::new))
                        .write().mode(SaveMode.Overwrite).parquet(tables.resolve(t).resolve(pending).toString());
            }
            // from the computed rows: Spark's readers skip the pending folder even when it is named
            int errors = (int) out.filter(functions.col("kind").equalTo(Tables.ERRORS)).count();
            spark.createDataFrame(rows, INPUT).select("path").coalesce(1)
                    .write().mode(SaveMode.Overwrite).parquet(tables.resolve(Tables.DONE).resolve(pending).toString());
            String dir = "chunk=" + String.format(Locale.ROOT, "%05d", id);
            for (String t : written) {
                publish(tables.resolve(t), pending, dir);
            }
            publish(tables.resolve(Tables.DONE), pending, dir);
            return errors;
        } finally {
            out.unpersist();
        }
    }

    /** Makes a written chunk visible: renames its pending folder to {@code chunk=N} in one step. */
    private static void publish(Path table, String pending, String dir) {
        try {
            Files.move(table.resolve(pending), table.resolve(dir), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The paths of committed chunks; removes what a killed run left: its pending folders, and every chunk without its
     * done rows.
     */
    static Set<String> committed(SparkSession spark, Path tables) {
        for (String t : List.of(Tables.FEATURES, Tables.ANOMALIES, Tables.ERRORS, Tables.TOKENS, Tables.DONE)) {
            for (String p : listed(tables.resolve(t), PENDING)) {
                BatchSpark.deleteTree(tables.resolve(t).resolve(p));
            }
        }
        Set<String> ok = new HashSet<>();
        for (String c : chunkDirs(tables.resolve(Tables.DONE))) {
            if (Files.exists(tables.resolve(Tables.DONE).resolve(c).resolve("_SUCCESS"))) {
                ok.add(c);
            }
        }
        for (String t : List.of(Tables.FEATURES, Tables.ANOMALIES, Tables.ERRORS, Tables.TOKENS, Tables.DONE)) {
            for (String c : chunkDirs(tables.resolve(t))) {
                if (!ok.contains(c)) {
                    BatchSpark.deleteTree(tables.resolve(t).resolve(c));
                }
            }
        }
        Set<String> paths = new HashSet<>();
        if (!ok.isEmpty()) {
            spark.read().parquet(tables.resolve(Tables.DONE).toString()).select("path").collectAsList()
                    .forEach(row -> paths.add(row.getString(0)));
        }
        return paths;
    }

    private static int countErrors(SparkSession spark, Path tables) {
        return chunkDirs(tables.resolve(Tables.ERRORS)).isEmpty() ? 0
                : (int) spark.read().parquet(tables.resolve(Tables.ERRORS).toString()).count();
    }

    private static int nextChunk(Path tables) {
        return chunkDirs(tables.resolve(Tables.DONE)).stream().mapToInt(c -> Integer.parseInt(c.substring(6)))
                .max().orElse(-1) + 1;
    }

    /** The committed chunks' folders of a table ({@code chunk=N}), sorted. */
    static List<String> chunkDirs(Path table) {
        return listed(table, "chunk=");
    }

    private static List<String> listed(Path table, String prefix) {
        if (!Files.isDirectory(table)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(table)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
