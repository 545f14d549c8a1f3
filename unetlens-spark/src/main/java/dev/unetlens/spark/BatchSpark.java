package dev.unetlens.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The Spark session of a batch run and what the driver needs around it. */
public final class BatchSpark {
    private static final Pattern LOCAL = Pattern.compile("local\\[(\\d+|\\*)(,\\d+)?]");

    private BatchSpark() {
    }

    /**
     * The session a batch runs in, and whether the batch started it (and so stops it at the end).
     *
     * @param spark   the session
     * @param started started for this batch; else the JVM's running one (a notebook's, a test class's), left running
     */
    public record Session(SparkSession spark, boolean started) implements AutoCloseable {
        @Override
        public void close() {
            if (started) {
                spark.stop();
            }
        }
    }

    /**
     * The JVM's running session when it has one (its master must be {@code master}, if given), else a new one from
     * {@link #session}.
     */
    public static Session open(String master) {
        scala.Option<SparkSession> running = SparkSession.getDefaultSession();
        if (running.isEmpty() || running.get().sparkContext().isStopped()) {
            return new Session(session(master), true);
        }
        String m = running.get().sparkContext().master();
        if (master != null && !master.equals(m)) {
            throw new UnetlensException("this JVM already runs Spark with master " + m + ", not " + master
                    + " (--master); leave --master out to run in it");
        }
        return new Session(running.get(), false);
    }

    /**
     * A new session (or the running one, whatever its master): {@code master}, else spark-submit's
     * ({@code spark.master}), else {@code local[*]}; no web UI in local mode, Parquet through Spark's committers
     * (FileOutputCommitter v1: a table's files appear at job commit).
     */
    public static SparkSession session(String master) {
        SparkConf conf = new SparkConf(true);
        String m = master != null ? master : conf.get("spark.master", "local[*]");
        conf.setMaster(m).setAppName(conf.get("spark.app.name", "unetlens batch"));
        if (m.startsWith("local")) {
            conf.setIfMissing("spark.ui.enabled", "false");
            conf.setIfMissing("spark.driver.host", "127.0.0.1");
            conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
        }
        conf.setIfMissing("spark.sql.shuffle.partitions", "8");
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        conf.setIfMissing("spark.sql.debug.maxToStringFields", "1000");     // a record's columns: no truncation warning
        conf.setIfMissing("spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version", "1");
        conf.setIfMissing("spark.sql.sources.partitionOverwriteMode", "static");
        return SparkSession.builder().config(conf).getOrCreate();
    }

    /**
     * libtorch threads per task when not given: local[N] shares this machine's cores among its N tasks, a cluster gives
     * each task spark.task.cpus.
     */
    public static int defaultThreads(SparkSession spark) {
        Matcher mm = LOCAL.matcher(spark.sparkContext().master());
        int cores = Runtime.getRuntime().availableProcessors();
        if (mm.matches()) {
            int tasks = mm.group(1).equals("*") ? cores : Integer.parseInt(mm.group(1));
            return Math.max(1, cores / Math.max(1, tasks));
        }
        if (spark.sparkContext().master().equals("local")) {
            return cores;
        }
        return Integer.parseInt(spark.sparkContext().getConf().get("spark.task.cpus", "1"));
    }

    /** Spark's configuration for the manifest, secrets left out. */
    public static ObjectNode conf(SparkSession spark) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        List<scala.Tuple2<String, String>> all = new ArrayList<>(List.of(spark.sparkContext().getConf().getAll()));
        all.sort(Comparator.comparing(scala.Tuple2::_1));
        for (var t : all) {
            if (!t._1().toLowerCase(Locale.ROOT).matches(".*(secret|password|token|credential|key).*")) {
                o.put(t._1(), t._2());
            }
        }
        o.put("default_parallelism", spark.sparkContext().defaultParallelism());
        o.put("spark_version", spark.version());
        return o;
    }

    /** Rows of the Parquet table at {@code dir} (0 when it has none yet). */
    public static long count(SparkSession spark, Path dir) {
        return BatchJob.chunkDirs(dir).isEmpty() ? 0 : spark.read().parquet(dir.toString()).count();
    }

    /** The model hash the manifest in {@code dir} records, or null. */
    public static String earlierModelHash(Path dir) {
        Path m = dir.resolve("manifest.json");
        if (!Files.isRegularFile(m)) {
            return null;
        }
        try {
            JsonNode h = new ObjectMapper().readTree(m.toFile()).path("model").path("hash");
            return h.isTextual() ? h.asText() : null;
        } catch (IOException e) {
            throw new UnetlensException(m + ": cannot read the earlier run's manifest (" + e.getMessage() + ")");
        }
    }

    public static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A failure as one line: the unetlens error a task raised (Spark wraps it, in a SparkException that Scala throws
     * unchecked although Java counts it as checked), else the exception itself, a checked one as its first line.
     */
    public static RuntimeException oneLine(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnetlensException u) {
                return u;
            }
        }
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        Matcher m = Pattern.compile("UnetlensException: ([^\\n]+)").matcher(msg);
        if (m.find()) {
            return new UnetlensException(m.group(1), e);
        }
        return e instanceof RuntimeException r ? r
                : new UnetlensException("Spark failed: " + msg.lines().findFirst().orElse(e.toString()), e);
    }
}
