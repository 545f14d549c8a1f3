package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.RgbImage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The demo on the bundled model (written into a fresh cache) and the viz command over an extract dump. */
class DemoAndVizTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path cache;
    @TempDir
    Path tmp;

    @BeforeAll
    static void freshCache() {
        System.setProperty("unetlens.cache", cache.toString());
    }

    @AfterAll
    static void restore() {
        System.clearProperty("unetlens.cache");
    }

    @Test
    void demoWritesTheImageAndItsPicturesAndRefusesToOverwrite() throws Exception {
        Path out = tmp.resolve("demo-out");
        assertThat(Main.run("demo", "--out", out.toString())).isZero();
        assertThat(cache.resolve("models")).isDirectory();
        JsonNode m = JSON.readTree(out.resolve("manifest.json").toFile());
        List<String> files = new ArrayList<>();
        m.get("files").forEach(f -> files.add(f.get("file").asText()));
        assertThat(files).contains("image.png", "latents.npy", "pictures/word-heat-maps.png");
        assertThat(files).anyMatch(f -> f.contains("cross-attention"));
        assertThat(files).as("--steps 20 is 20 steps, also with PNDM").anyMatch(f -> f.endsWith("-grid-step-020.png"))
                .noneMatch(f -> f.contains("step-021"));
        assertThat(files).anyMatch(f -> f.endsWith("-steps.png"));
        for (String f : files) {
            assertThat(out.resolve(f)).exists();
            if (f.endsWith(".png")) {
                assertThat(RgbImage.read(out.resolve(f)).width()).isPositive();
            }
        }
        byte[] before = Files.readAllBytes(out.resolve("image.png"));
        CliRun again = CliRun.of("demo", "--out", out.toString());
        assertThat(again.code()).isNotZero();
        assertThat(again.err()).contains("already exists").contains("--force");
        assertThat(Files.readAllBytes(out.resolve("image.png"))).isEqualTo(before);
    }

    @Test
    void vizDrawsEveryTensorOfADump() throws Exception {
        String model = Golden.get().path("models/" + Golden.get().models().getFirst()).toString();
        Path dump = tmp.resolve("dump");
        assertThat(Main.run("extract", "--model", model, "--prompt", "a red lighthouse", "--scheduler", "ddim",
                "--steps", "3", "--seed", "1", "--height", "64", "--width", "64", "--format", "npz",
                "--at", "M00,up_blocks[1].attentions[0].transformer_blocks[0].attn2:probs", "--out", dump.toString())).isZero();
        Path pics = tmp.resolve("pics");
        assertThat(Main.run("viz", "--dump", dump.toString(), "--color", "custom", "--hsl", "(2+v)/3;1.0;0.5",
                "--transform", "sigmoid(1,0)", "--out", pics.toString())).isZero();
        JsonNode m = JSON.readTree(pics.resolve("manifest.json").toFile());
        List<String> files = new ArrayList<>();
        m.get("files").forEach(f -> files.add(f.get("file").asText()));
        assertThat(files).contains("mid_block_step-001-grid.png", "mid_block_step-003-l2.png", "mid_block-steps.png",
                "up_blocks.1.attentions.0.transformer_blocks.0.attn2-probs_step-002.png");
        files.forEach(f -> assertThat(pics.resolve(f)).exists());
    }

    @Test
    void vizRejectsWhatIsNotADump() throws Exception {
        Path notDump = Files.createDirectories(tmp.resolve("empty"));
        CliRun r = CliRun.of("viz", "--dump", notDump.toString(), "--out", tmp.resolve("o").toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("no manifest.json");
        assertThat(tmp.resolve("o")).doesNotExist();
        r = CliRun.of("viz", "--dump", notDump.toString(), "--color", "custom", "--rgb", "v;v +", "--out",
                tmp.resolve("o").toString());
        assertThat(r.code()).isNotZero();
    }
}
