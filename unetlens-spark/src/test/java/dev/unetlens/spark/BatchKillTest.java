package dev.unetlens.spark;

import dev.unetlens.cli.Main;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real kill: {@code batch} runs in a JVM of its own (local[1], chunks of two images) and is killed with SIGKILL once
 * its first chunk's done rows are committed, then its {@code --resume} is killed mid-chunk (while the next chunk's
 * first table is being written). After each kill the tables hold the first chunk's images and nothing else, as a
 * reader of the tables sees them; a last {@code --resume} gives the tables of an uninterrupted run (rows sorted, float
 * rounding only).
 */
class BatchKillTest extends SparkTestBase {
    private static final List<String> TABLES = List.of("features", "anomalies", "errors", "done");
    private static final long TIMEOUT_MS = 600_000;
    /** The child JVMs' output, kept after the test (in the module's target folder). */
    private static final Path CHILD_LOG = Path.of("target", "BatchKillTest-child.log");

    @Test
    void killedTwiceResumesToTheUninterruptedTables() throws Exception {
        Path images = BatchTestData.images(tmp.resolve("images"), 5);
        Files.write(images.resolve("img02-broken.png"), new byte[] {1, 2, 3});           // an errors row, in chunk 1
        String model = BatchTestData.model(0);
        Path out = tmp.resolve("killed");
        Files.deleteIfExists(CHILD_LOG);

        killWhen(child(model, images, out, false), () -> Files.isDirectory(out.resolve("tables/done/chunk=00000")));
        List<String> first = paths(out.resolve("tables/done"));
        assertThat(first).hasSize(2);
        onlyChunkZero(out, first);

        killWhen(child(model, images, out, true), () -> writing(out.resolve("tables/features")));
        onlyChunkZero(out, first);
        assertThat(Files.readAllLines(CHILD_LOG)).as("the batch JVMs' output (%s) has no JVM or Spark warnings",
                CHILD_LOG.toAbsolutePath()).noneMatch(l -> l.startsWith("WARNING: ") || l.matches("\\d\\d:\\d\\d:\\d\\d WARN .*"));

        BatchTestData.shared();
        assertThat(Main.run(args(model, images, out, "local[2]", "--resume"))).isZero();
        Path whole = tmp.resolve("whole");
        assertThat(Main.run(args(model, images, whole, "local[2]"))).isZero();
        for (String t : TABLES) {
            BatchTestData.assertSameRows(out.resolve("tables/" + t), whole.resolve("tables/" + t), 1e-6);
        }
        assertThat(BatchTestData.table(out.resolve("tables/errors"))).singleElement().asString().contains("img02-broken.png");
        assertThat(BatchJob.chunkDirs(out.resolve("tables/done"))).hasSize(3);
    }

    /** What a reader of the tables sees: the images of chunk 0 (its done rows), in every table, and nothing else. */
    private static void onlyChunkZero(Path out, List<String> first) {
        for (String t : TABLES) {
            Path table = out.resolve("tables/" + t);
            assertThat(BatchJob.chunkDirs(table)).as(t).containsExactly("chunk=00000");
            assertThat(paths(table)).as(t).isSubsetOf(first);
        }
        assertThat(paths(out.resolve("tables/features"))).containsExactlyElementsOf(first);
    }

    private static List<String> paths(Path table) {
        return BatchTestData.shared().read().parquet(table.toString()).select("path").distinct().collectAsList().stream()
                .map(r -> r.getString(0)).sorted().toList();
    }

    /** A chunk's table is being written: Spark's committer has its _temporary folder under a pending folder. */
    private static boolean writing(Path table) {
        if (!Files.isDirectory(table)) {
            return false;
        }
        try (Stream<Path> s = Files.list(table)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith(BatchJob.PENDING)
                    && Files.isDirectory(p.resolve("_temporary")));
        } catch (IOException e) {
            return false;                                                     // listed while the run renames
        }
    }

    /** Polls {@code when} every 20 ms, then kills the process with SIGKILL; fails if it ends first. */
    private void killWhen(Process p, BooleanSupplier when) throws Exception {
        long end = System.currentTimeMillis() + TIMEOUT_MS;
        try {
            while (!when.getAsBoolean()) {
                assertThat(p.isAlive()).as("the batch ended (exit %s) before the kill; its output: %s",
                        p.isAlive() ? "-" : p.exitValue(), CHILD_LOG.toAbsolutePath()).isTrue();
                assertThat(System.currentTimeMillis()).as("no kill point within %d ms (the batch's output: %s)", TIMEOUT_MS, CHILD_LOG.toAbsolutePath()).isLessThan(end);
                Thread.sleep(20);
            }
        } finally {
            p.destroyForcibly();                                               // SIGKILL on Linux
            p.waitFor();
        }
        assertThat(p.exitValue()).as("killed by SIGKILL").isEqualTo(137);
    }

    /** {@code batch} in a new JVM with this JVM's class path and flags (the module opens, DJL's properties). */
    private Process child(String model, Path images, Path out, boolean resume) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens") || a.startsWith("--add-modules") || a.startsWith("--enable-native-access")
                    || a.startsWith("-D") || a.startsWith("-Xss") || a.equals("-XX:+IgnoreUnrecognizedVMOptions")
                    || a.startsWith("--sun-misc-unsafe-memory-access")) {
                cmd.add(a);
            }
        }
        // Spark's codecs unpack their native libraries into java.io.tmpdir and delete them at exit, which a SIGKILL
        // skips: the killed child's copies go under the test's own folder, not /tmp.
        cmd.add("-Djava.io.tmpdir=" + Files.createDirectories(out.resolveSibling(out.getFileName() + "-tmp")));
        cmd.add("-cp");
        cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(resume ? args(model, images, out, "local[1]", "--resume") : args(model, images, out, "local[1]")));
        File log = CHILD_LOG.toFile();
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
    }

    private static String[] args(String model, Path images, Path out, String master, String... more) {
        List<String> a = new ArrayList<>(List.of("batch", "--model", model, "--input", images.toString(), "--out",
                out.toString(), "--master", master, "--partitions", "1", "--chunk", "2", "--threads-per-task", "1"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }
}
