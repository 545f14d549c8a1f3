package dev.unetlens.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.cli.Main;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code batch}'s tables do not depend on where and how it runs (a standalone cluster, {@link LocalCluster}: one
 * executor of one core in a JVM of its own, one partition, one chunk vs the embedded engine local[2], three
 * partitions, chunks of 3), a run killed between a chunk's tables and its done rows resumes to the same tables, an
 * unreadable image becomes an errors row, and bad input fails in one line: another model's tables, a table without a
 * path column, too many errors, a model path an executor lacks. Every run after the cluster's shares the class's
 * local[2] session (starting Spark is most of a small run's time).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BatchRunTest extends SparkTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> TABLES = List.of("features", "anomalies", "errors");

    @Test
    @Order(1)
    void partitionIndependentResumableWithErrorsRow() throws Exception {
        Path images = BatchTestData.images(tmp.resolve("images"), 5);
        Files.write(images.resolve("broken.png"), new byte[] {1, 2, 3, 4});
        String model = BatchTestData.model(0);
        Path a = tmp.resolve("a");
        BatchTestData.stopShared();
        try (LocalCluster cluster = LocalCluster.start(tmp.resolve("spark-home"))) {
            assertThat(batch(model, images, a, LocalCluster.MASTER, "1", "100")).isZero();
            assertThat(cluster.executorPid()).as("the executor is a process of its own").isNotEqualTo(ProcessHandle.current().pid());
        }
        assertThat(Files.readString(a.resolve("manifest.json"))).contains(LocalCluster.MASTER);
        BatchTestData.shared();
        Path b = tmp.resolve("b");
        assertThat(batch(model, images, b, "local[2]", "3", "3")).isZero();
        for (String t : TABLES) {
            assertThat(BatchTestData.table(b.resolve("tables/" + t))).as(t).isEqualTo(BatchTestData.table(a.resolve("tables/" + t)));
        }
        List<String> errors = BatchTestData.table(a.resolve("tables/errors"));
        assertThat(errors).hasSize(1);
        assertThat(errors.getFirst()).contains("broken.png").contains("error=" + images.resolve("broken.png"));
        assertThat(BatchTestData.table(a.resolve("tables/features"))).hasSizeGreaterThan(5).noneMatch(r -> r.contains("broken.png"));
        assertThat(BatchJob.chunkDirs(b.resolve("tables/done"))).hasSize(2);

        killedAfterTables(b, "chunk=00001");
        assertThat(Main.run(args(model, images, b, "local[2]", "2", "3", "--resume"))).isZero();
        for (String t : TABLES) {
            assertThat(BatchTestData.table(b.resolve("tables/" + t))).as("resumed " + t)
                    .isEqualTo(BatchTestData.table(a.resolve("tables/" + t)));
        }
        assertThat(BatchTestData.table(b.resolve("tables/done"))).hasSize(6);
        assertThat(SparkSession.getDefaultSession().isDefined()).as("batch leaves the JVM's session running").isTrue();

        killedAfterTables(b, "chunk=00002");
        String hash = JSON.readTree(b.resolve("manifest.json").toFile()).path("model").path("hash").asText();
        String err = stderr(() -> assertThat(Main.run(args(BatchTestData.model(1), images, b, "local[2]", "1", "3",
                "--resume"))).isNotZero());
        assertThat(err).contains("were written by model " + hash).containsPattern("not by [0-9a-f]{64}");
    }

    @Test
    @Order(2)
    void badInputFailsInOneLine() throws Exception {
        BatchTestData.shared();
        Path images = BatchTestData.images(tmp.resolve("images"), 1);
        Path csv = tmp.resolve("list.csv");
        Files.writeString(csv, "file,label\nimg00.png,a\n");
        String model = BatchTestData.model(0);
        String err = stderr(() -> assertThat(Main.run("batch", "--model", model, "--input", csv.toString(), "--out",
                tmp.resolve("o1").toString())).isNotZero());
        assertThat(err.strip()).contains("has no 'path' column (its columns: file, label)").doesNotContain("\n");

        Path list = tmp.resolve("list.txt");
        Files.write(tmp.resolve("bad.png"), new byte[] {9});
        Files.writeString(list, images.resolve("img00.png") + "\nbad.png\n");
        err = stderr(() -> assertThat(Main.run("batch", "--model", model, "--input", list.toString(), "--out",
                tmp.resolve("o2").toString(), "--max-errors", "0")).isNotZero());
        assertThat(err.strip().lines().toList().getLast()).startsWith("unetlens: error: 1 images could not be used, over --max-errors 0");

        Path gone = tmp.resolve("nowhere");                                 // the driver has it, this executor not
        BatchRequest lacking = new BatchRequest(gone.toString(), null, List.of("conv_in"), List.of(50), 1, 42, true, "",
                "SAMPLE", false, null, false, null, 512, "conv_in", 6, false, null, false, 1);
        assertThatThrownBy(() -> {
            try {
                BatchJob.run(BatchTestData.shared(), lacking, List.of(new ImageInput(images.resolve("img00.png").toString(),
                        null, null)), tmp.resolve("o4/tables"), new BatchJob.Settings(1, 1, -1));
            } catch (Exception e) {   // Spark throws its (checked) SparkException unchecked
                throw BatchSpark.oneLine(e);                                   // what the CLI prints
            }
        }).isInstanceOf(UnetlensException.class).hasMessageContaining("the model " + gone + " is missing on executor ")
                .hasMessageContaining("storage every executor reads").message().doesNotContain("\n");
        assertThat(BatchJob.chunkDirs(tmp.resolve("o4/tables/features"))).as("nothing committed").isEmpty();
        err = stderr(() -> assertThat(Main.run("batch", "--model", model, "--input", images.toString(), "--out",
                tmp.resolve("o3").toString(), "--master", "local[1]")).isNotZero());
        assertThat(err.strip()).endsWith("this JVM already runs Spark with master local[2], not local[1] (--master);"
                + " leave --master out to run in it");
    }

    private static int batch(String model, Path images, Path out, String master, String partitions, String chunk) {
        return Main.run(args(model, images, out, master, partitions, chunk));
    }

    private static String[] args(String model, Path images, Path out, String master, String partitions, String chunk,
                                 String... more) {
        List<String> a = new ArrayList<>(List.of("batch", "--model", model, "--input", images.toString(), "--out",
                out.toString(), "--master", master, "--partitions", partitions, "--chunk", chunk, "--threads-per-task", "1"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** What a run killed after chunk {@code chunk}'s tables and before its done rows leaves. */
    private static void killedAfterTables(Path out, String chunk) throws Exception {
        BatchSpark.deleteTree(out.resolve("tables/done").resolve(chunk));
        ObjectNode m = (ObjectNode) JSON.readTree(out.resolve("manifest.json").toFile());
        m.put("status", "incomplete");
        JSON.writeValue(out.resolve("manifest.json").toFile(), m);
    }

    private static String stderr(Runnable r) {
        PrintStream old = System.err;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        System.setErr(new PrintStream(b, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setErr(old);
        }
        return b.toString(StandardCharsets.UTF_8);
    }
}
