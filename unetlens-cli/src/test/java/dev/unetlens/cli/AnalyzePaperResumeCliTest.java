package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.TestImages;
import dev.unetlens.io.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code analyze paper} killed after a few images and run again with {@code --resume}: the images it finished are
 * read back, not extracted again, and every number equals an uninterrupted run's.
 */
class AnalyzePaperResumeCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String AT = "conv_in, up_blocks[1].upsamplers[0], up_blocks[2].attentions[0]";
    private static final int IMAGES = 16;

    @TempDir
    Path tmp;

    private List<String> args(String model, Path folder, Path out) {
        return new ArrayList<>(List.of("analyze", "paper", "--model", model, "--images", folder.toString(), "--at", AT,
                "--epochs", "2", "--out", out.toString()));
    }

    private static int stateFiles(Path out) {
        try {
            int n = 0;
            for (JsonNode f : JSON.readTree(out.resolve("manifest.json").toFile()).get("files")) {
                n += f.get("file").asText().startsWith("state/image-") ? 1 : 0;
            }
            return n;
        } catch (Exception e) {
            return 0;
        }
    }

    @Test
    void aKilledRunResumesWithoutExtractingFinishedImagesAgain() throws Exception {
        String model = Golden.get().path("models/" + Golden.get().models().getFirst()).toString();
        Path folder = tmp.resolve("images");
        RgbImage g = TestImages.gradient(96, 64);
        for (int i = 0; i < IMAGES; i++) {
            byte[] px = g.rgb().clone();
            for (int k = 0; k < px.length; k++) {
                px[k] = (byte) (px[k] * (i + 1) + k % 7 * i);
            }
            AnalyzePaperCliTest.write(folder.resolve(String.format("img%02d.png", i)), new RgbImage(96, 64, px));
        }
        Path out = tmp.resolve("resumed");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args(model, folder, out));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (stateFiles(out) < 3) {
            if (!p.isAlive()) {
                throw new AssertionError("the run ended: " + new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            }
            assertThat(System.nanoTime()).as("3 images in time").isLessThan(deadline);
            Thread.sleep(20);
        }
        p.destroyForcibly().waitFor();
        int kept = stateFiles(out);
        assertThat(JSON.readTree(out.resolve("manifest.json").toFile()).get("status").asText()).isEqualTo("incomplete");

        List<String> resume = args(model, folder, out);
        resume.add("--resume");
        CliRun r = CliRun.of(resume);
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode m = JSON.readTree(out.resolve("manifest.json").toFile());
        assertThat(m.get("status").asText()).isEqualTo("complete");
        assertThat(m.get("images_from_earlier_run").asInt()).isBetween(kept, IMAGES - 1).isGreaterThanOrEqualTo(3);
        assertThat(r.err()).contains("resumed: " + m.get("images_from_earlier_run").asInt() + " of 16 images");
        assertThat(stateFiles(out)).isZero();
        assertThat(out.resolve("state")).satisfiesAnyOf(d -> assertThat(d).doesNotExist(), d -> assertThat(d).isEmptyDirectory());

        Path fresh = tmp.resolve("fresh");
        assertThat(Main.run(args(model, folder, fresh).toArray(String[]::new))).isZero();
        JsonNode a = JSON.readTree(out.resolve("results.json").toFile()).get("modules");
        JsonNode b = JSON.readTree(fresh.resolve("results.json").toFile()).get("modules");
        assertThat(a).isEqualTo(b);
        assertThat(Files.readAllBytes(out.resolve("anomalies.json"))).isEqualTo(Files.readAllBytes(fresh.resolve("anomalies.json")));

        CliRun again = CliRun.of(resume);
        assertThat(again.code()).isNotZero();
        assertThat(again.err()).contains("holds a complete run; nothing to resume");
    }
}
