package dev.unetlens.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.UnetlensException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An output directory says in its manifest whether the run finished (also when it was killed or interrupted), a
 * {@code --force} run replaces the earlier run's outputs and leaves nothing stale, and a bad directory fails at once
 * with the reason.
 */
class OutputDirectoryTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path tmp;

    private static JsonNode manifest(Path dir) throws IOException {
        return JSON.readTree(dir.resolve(OutputDirectory.MANIFEST).toFile());
    }

    private static void text(OutputDirectory out, String name, String text) {
        out.write(name, o -> o.write(text.getBytes(StandardCharsets.UTF_8)), name);
    }

    private static List<String> tree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    @Test
    void aRunWhoseFilesAnotherEngineWritesBeginsWithAManifestThatResumes() throws IOException {
        Path dir = tmp.resolve("spark");
        OutputDirectory out = OutputDirectory.open(dir, "batch", false);
        out.manifest().put("model", "abc");
        out.begin();                                               // before Spark writes dir/tables; then killed
        assertThat(manifest(dir).get("status").asText()).isEqualTo("incomplete");
        assertThat(manifest(dir).get("model").asText()).isEqualTo("abc");
        OutputDirectory again = OutputDirectory.resume(dir, "batch");
        again.begin();
        assertThat(manifest(dir).at("/resumed/0/earlier_status").asText()).isEqualTo("incomplete");
        again.finish();
        assertThat(manifest(dir).get("status").asText()).isEqualTo("complete");
    }

    @Test
    void theManifestSaysIncompleteUntilTheRunFinishes() throws IOException {
        Path dir = tmp.resolve("run");
        OutputDirectory out = OutputDirectory.open(dir, "test", false);
        assertThat(dir).doesNotExist();
        text(out, "a.txt", "a");
        assertThat(manifest(dir).get("status").asText()).isEqualTo("incomplete");
        out.finish();
        assertThat(manifest(dir).get("status").asText()).isEqualTo("complete");

        Path failed = tmp.resolve("failed");
        text(OutputDirectory.open(failed, "test", false), "a.txt", "a");
        OutputDirectory.failUnfinished();
        assertThat(manifest(failed).get("status").asText()).isEqualTo("failed");
        assertThat(manifest(dir).get("status").asText()).isEqualTo("complete");
    }

    @Test
    void aFileWrittenTwiceIsABug() {
        OutputDirectory out = OutputDirectory.open(tmp.resolve("run"), "test", false);
        text(out, "pictures/a.png", "a");
        assertThatThrownBy(() -> text(out, "pictures/./a.png", "b")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("written twice");
        out.finish();
    }

    @Test
    void forceReplacesTheEarlierRunsOutputsAndKeepsOtherFiles() throws IOException {
        Path dir = tmp.resolve("run");
        OutputDirectory first = OutputDirectory.open(dir, "test", false);
        text(first, "old.txt", "old");
        text(first, "pictures/old.png", "old");
        text(first, "same.txt", "first");
        // what a killed run leaves: a partial folder (and an older version's spool folder), an unfinished atomic write
        Files.createDirectories(dir.resolve(OutputDirectory.PARTIAL_PREFIX + "x")).resolve("t.raw").toFile().createNewFile();
        Files.createDirectories(dir.resolve(".spool-y"));
        Files.writeString(dir.resolve(".same.txt.abc.part"), "half");
        Files.writeString(dir.resolve("mine.txt"), "the user's");

        assertThatThrownBy(() -> OutputDirectory.open(dir, "test", false)).isInstanceOf(UnetlensException.class)
                .hasMessageContaining("--force");
        OutputDirectory second = OutputDirectory.open(dir, "test", true);
        assertThat(tree(dir)).as("nothing is removed before the first new file").contains("old.txt");
        text(second, "same.txt", "second");
        second.finish();

        assertThat(tree(dir)).containsExactly("manifest.json", "mine.txt", "same.txt");
        assertThat(Files.readString(dir.resolve("same.txt"))).isEqualTo("second");
        assertThat(manifest(dir).get("files")).hasSize(1);
    }

    @Test
    void aResumedRunKeepsWhatTheEarlierRunListedAndMayWriteItAgain() throws IOException {
        Path dir = tmp.resolve("run");
        OutputDirectory first = OutputDirectory.open(dir, "analyze paper", false);
        text(first, "images/a.json", "a");
        text(first, "images/b.json", "b");
        text(first, "images/gone.json", "gone");
        Files.delete(dir.resolve("images/gone.json"));
        Files.createDirectories(dir.resolve(OutputDirectory.PARTIAL_PREFIX + "x"));
        Files.writeString(dir.resolve("images/.c.json.abc.part"), "half");
        Files.writeString(dir.resolve("mine.txt"), "the user's");   // what a killed run's first never listed stays too

        assertThatThrownBy(() -> OutputDirectory.resume(dir, "analyze anomalies")).isInstanceOf(UnetlensException.class)
                .hasMessage("cannot resume " + dir + ": it holds a run of 'analyze paper', not 'analyze anomalies'");
        OutputDirectory second = OutputDirectory.resume(dir, "analyze paper");
        assertThat(second.inherited().keySet()).containsExactly("images/a.json", "images/b.json");
        assertThat(second.inherited("images/a.json").get("sha256").asText()).isEqualTo(OutputDirectory.sha256(dir.resolve("images/a.json")));
        text(second, "images/b.json", "b again");
        text(second, "images/c.json", "c");
        second.delete("images/a.json");
        second.finish();

        JsonNode m = manifest(dir);
        assertThat(m.get("status").asText()).isEqualTo("complete");
        assertThat(m.get("resumed")).hasSize(1);
        assertThat(m.at("/resumed/0/earlier_status").asText()).isEqualTo("incomplete");
        assertThat(m.get("files").findValuesAsText("file")).containsExactly("images/b.json", "images/c.json");
        assertThat(tree(dir)).containsExactly("images", "images/b.json", "images/c.json", "manifest.json", "mine.txt");
        assertThat(Files.readString(dir.resolve("images/b.json"))).isEqualTo("b again");
        assertThatThrownBy(() -> OutputDirectory.resume(dir, "analyze paper")).isInstanceOf(UnetlensException.class)
                .hasMessage(dir + " holds a complete run; nothing to resume (--force runs it again)");

        Path fresh = tmp.resolve("fresh");
        OutputDirectory f = OutputDirectory.resume(fresh, "analyze paper");
        assertThat(f.inherited()).isEmpty();
        text(f, "x.txt", "x");
        f.finish();
        Path foreign = Files.createDirectories(tmp.resolve("foreign"));
        Files.writeString(foreign.resolve("data.csv"), "1");
        assertThatThrownBy(() -> OutputDirectory.resume(foreign, "analyze paper")).isInstanceOf(UnetlensException.class)
                .hasMessageContaining("has no unetlens manifest.json");
    }

    @Test
    void forceRemovesNothingThatAnotherToolsManifestLists() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("theirs"));
        Files.writeString(dir.resolve(OutputDirectory.MANIFEST), "{\"tool\": \"other\", \"files\": [{\"file\": \"data.csv\"}]}");
        Files.writeString(dir.resolve("data.csv"), "1,2");
        OutputDirectory out = OutputDirectory.open(dir, "test", true);
        text(out, "new.txt", "new");
        out.finish();
        assertThat(tree(dir)).containsExactly("data.csv", "manifest.json", "new.txt");
    }

    @Test
    void aDirectoryThatCannotBeCreatedFailsAtOnceWithTheReason() throws IOException {
        assertThatThrownBy(() -> OutputDirectory.open(Path.of("/proc/unetlens-x"), "test", false))
                .isInstanceOf(UnetlensException.class)
                .hasMessage("cannot create /proc/unetlens-x: no such file or directory (/proc accepts no new folders);"
                        + " choose another --out");
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertThatThrownBy(() -> OutputDirectory.open(file.resolve("sub"), "test", false))
                .isInstanceOf(UnetlensException.class).hasMessageContainingAll("cannot create", "ot a directory");
        Path deep = tmp.resolve("a/b/c");
        OutputDirectory.open(deep, "test", false);
        assertThat(tmp.resolve("a")).as("the probe leaves nothing").doesNotExist();
    }

    @Test
    void anInterruptedRunIsMarkedAndSaysWhatItKept() throws Exception {
        Path dir = tmp.resolve("interrupted");
        Process p = start(dir);
        new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(err.lines().toList()).containsExactly("unetlens: interrupted: kept the 1 finished files in " + dir
                + " (manifest.json lists them, status \"interrupted\"); partial files removed");
        assertThat(manifest(dir).get("status").asText()).isEqualTo("interrupted");
        assertThat(manifest(dir).has("partial_files")).isFalse();
        assertThat(tree(dir)).containsExactly("done.txt", "manifest.json");
    }

    @Test
    void aKilledRunLeavesAnIncompleteManifestThatNamesItsPartialFiles() throws Exception {
        Path dir = tmp.resolve("killed");
        Process p = start(dir);
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
        JsonNode m = manifest(dir);
        assertThat(m.get("status").asText()).isEqualTo("incomplete");
        assertThat(m.get("partial_files").asText()).startsWith(OutputDirectory.PARTIAL_PREFIX);
        OutputDirectory again = OutputDirectory.open(dir, "test", true);
        text(again, "new.txt", "new");
        again.finish();
        assertThat(tree(dir)).containsExactly("manifest.json", "new.txt");
    }

    /** Starts {@link InterruptedRun} on {@code dir} and waits until it has written its files. */
    private static Process start(Path dir) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), InterruptedRun.class.getName(),
                dir.toString()).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertThat(r.readLine()).isEqualTo("ready");
        return p;
    }
}
