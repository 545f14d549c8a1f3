package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An {@code extract} stopped with Ctrl-C (SIGINT) in the middle says what it kept and marks its manifest; one killed
 * outright leaves a manifest marked incomplete; {@code --force} over either leaves exactly the new run's files.
 */
class InterruptedRunCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path shared;
    static Path model;
    @TempDir
    Path tmp;

    @BeforeAll
    static void writeModel() {
        model = TinyModel.write(shared);
    }

    /** An extract of {@code steps} steps (one .npy per step) started in its own JVM, as the launcher runs it. */
    private static Process extract(Path out, int steps) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "extract", "--model", model.toString(), "-p", "a cat", "--scheduler", "ddim", "--steps", Integer.toString(steps),
                "--height", "64", "--width", "64", "--at", "M00", "--out", out.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** Starts a long extract in its own JVM and waits until it has written {@code files} files. */
    private static Process startExtract(Path out, int files) throws Exception {
        Process p = extract(out, 500);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (listed(out) < files) {
            if (!p.isAlive()) {
                throw new AssertionError("the extract ended: " + new String(p.getErrorStream().readAllBytes(),
                        StandardCharsets.UTF_8));
            }
            assertThat(System.nanoTime()).as("it wrote " + files + " files in time").isLessThan(deadline);
            Thread.sleep(50);
        }
        return p;
    }

    private static int listed(Path out) {
        try {
            return JSON.readTree(out.resolve("manifest.json").toFile()).get("files").size();
        } catch (Exception e) {
            return 0;
        }
    }

    private static List<String> tree(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    private static List<String> manifestFiles(Path dir) throws Exception {
        List<String> out = new ArrayList<>(List.of("manifest.json"));
        JSON.readTree(dir.resolve("manifest.json").toFile()).get("files").forEach(f -> out.add(f.get("file").asText()));
        return out.stream().sorted().toList();
    }

    /** The exit status of the CLI run in its own JVM, as the launcher runs it (Main.main, shutdown hooks and all). */
    private static int exitStatus(String... args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the run ended in time").isTrue();
        return p.exitValue();
    }

    /** The interrupt hook runs at every exit; a run that finished (or failed) keeps its own status, not 130. */
    @Test
    void finishedAndFailedRunsKeepTheirExitStatus() throws Exception {
        Path out = tmp.resolve("done");
        assertThat(exitStatus("generate", "--model", model.toString(), "-p", "a cat", "--steps", "1", "--height", "64",
                "--width", "64", "--out", out.toString())).isZero();
        assertThat(JSON.readTree(out.resolve("manifest.json").toFile()).get("status").asText()).isEqualTo("complete");
        assertThat(exitStatus("generate", "--model", model.toString(), "-p", "a cat", "--steps", "1", "--height", "64",
                "--width", "64", "--out", out.toString())).as("an existing output without --force").isEqualTo(1);
    }

    @Test
    void ctrlCMarksTheRunAndSaysWhatItKept() throws Exception {
        Path out = tmp.resolve("extract");
        Process p = startExtract(out, 3);
        new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(130);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        List<String> said = err.lines().filter(l -> l.startsWith("unetlens:")).toList();
        assertThat(said).singleElement().asString().startsWith("unetlens: interrupted: kept the ")
                .endsWith(" finished files in " + out + " (manifest.json lists them, status \"interrupted\"); partial files removed");
        JsonNode m = JSON.readTree(out.resolve("manifest.json").toFile());
        assertThat(m.get("status").asText()).isEqualTo("interrupted");
        assertThat(tree(out)).as("no partial folder, nothing unlisted").isEqualTo(manifestFiles(out));
    }

    @Test
    void aKilledRunIsMarkedIncompleteAndForceLeavesOnlyTheNewRun() throws Exception {
        Path out = tmp.resolve("extract");
        Process p = startExtract(out, 5);
        p.destroyForcibly();
        p.waitFor(60, TimeUnit.SECONDS);
        JsonNode killed = JSON.readTree(out.resolve("manifest.json").toFile());
        assertThat(killed.get("status").asText()).isEqualTo("incomplete");
        int before = killed.get("files").size();
        assertThat(before).isGreaterThanOrEqualTo(5);
        int present = listedBefore(killed, out);

        CliRun again = CliRun.of("extract", "--model", model.toString(), "-p", "a dog", "--scheduler",
                "ddim", "--steps", "2", "--height", "64", "--width", "64", "--at", "IN05", "--force", "--out", out.toString());
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(again.err()).contains("--force: removed the " + present + " files of the earlier run");
        assertThat(tree(out)).isEqualTo(manifestFiles(out)).hasSize(1 + 2 + 1)     // manifest, IN05 at 2 steps, image.png
                .noneMatch(f -> f.startsWith("mid_block"));
        assertThat(JSON.readTree(out.resolve("manifest.json").toFile()).get("status").asText()).isEqualTo("complete");
    }

    /**
     * The files the killed run's manifest lists that are there: all of them, or all but the last when the kill came
     * after it was listed and before it took its name.
     */
    private static int listedBefore(JsonNode manifest, Path out) {
        int n = 0;
        for (JsonNode f : manifest.get("files")) {
            n += Files.exists(out.resolve(f.get("file").asText())) ? 1 : 0;
        }
        assertThat(n).isBetween(manifest.get("files").size() - 1, manifest.get("files").size());
        return n;
    }
}
