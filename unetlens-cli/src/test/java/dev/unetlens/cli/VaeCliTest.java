package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.TestImages;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.RgbImage;
import dev.unetlens.pipeline.StableDiffusion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code unetlens vae}: an image walked through the encoder and back, a generation's latents through the decoder —
 * every stage listed with its shape and drawn, the overview, and the decoded latents the very pixels 'generate' wrote.
 */
class VaeCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private String model() {
        return Golden.get().path("models/" + Golden.get().models().getFirst()).toString();
    }

    @Test
    void imageAndLatentsStageByStage() throws Exception {
        Path img = tmp.resolve("input.png");
        dev.unetlens.io.AtomicFiles.write(img, o -> TestImages.gradient(70, 52).writePng(o, Map.of()));   // cropped to 64×48
        Path gen = tmp.resolve("gen");
        CliRun g = CliRun.of("generate", "--model", model(), "-p", "a cat", "--steps", "2", "--height", "64", "--width",
                "64", "--batch", "2", "--seed", "3", "--out", gen.toString());
        assertThat(g.code()).as(g.err()).isZero();
        Path out = tmp.resolve("vae");
        CliRun r = CliRun.of("vae", "--model", model(), "--image", img.toString(), "--latents",
                gen.resolve("latents.npy").toString(), "--row", "1", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode m = JSON.readTree(out.resolve("manifest.json").toFile());
        assertThat(m.get("status").asText()).isEqualTo("complete");
        try (StableDiffusion sd = StableDiffusion.load(Path.of(model()), StableDiffusion.Options.DEFAULT)) {
            Map<String, long[]> image = shapes(sd, 48, 64);
            Map<String, long[]> generated = shapes(sd, 64, 64);
            walk(m, "encoder", sd.vae().encoderStages(), image);
            walk(m, "decoder (image)", sd.vae().decoderStages(), image);
            walk(m, "decoder (latents)", sd.vae().decoderStages(), generated);
        }
        List<String> files = new ArrayList<>();
        m.get("files").forEach(f -> files.add(f.get("file").asText()));
        assertThat(files).contains("input.png", "reconstruction.png", "decoded.png", "walkthrough.png",
                "encoder/01-conv_in-grid.png", "encoder/01-conv_in-l2.png", "decoder/01-post_quant_conv-l2.png",
                "latent/mean-grid.png", "latent/std-grid.png", "latent/latent-grid.png", "latent/latents-row-1-grid.png");
        assertThat(RgbImage.read(out.resolve("input.png")).width()).isEqualTo(64);
        assertThat(RgbImage.read(out.resolve("reconstruction.png")).height()).isEqualTo(48);
        RgbImage decoded = RgbImage.read(out.resolve("decoded.png"));
        RgbImage generated = RgbImage.read(gen.resolve("image-001.png"));
        assertThat(decoded.rgb()).as("the decoder's walk ends in generate's own image").isEqualTo(generated.rgb());
        assertThat(r.out()).contains("encoder.down_blocks.1").contains("decoder.up_blocks.0");
    }

    private static Map<String, long[]> shapes(StableDiffusion sd, int h, int w) {
        Map<String, long[]> out = new HashMap<>();
        sd.vae().shapes(1, h, w).forEach(s -> out.put(s.name(), s.shape().getShape()));
        return out;
    }

    private static void walk(JsonNode m, String name, List<String> stages, Map<String, long[]> shapes) {
        JsonNode walk = m.get("walks").get(name);
        assertThat(walk).as(name).hasSize(stages.size());
        for (int i = 0; i < stages.size(); i++) {
            JsonNode s = walk.get(i);
            assertThat(s.get("stage").asText()).isEqualTo(stages.get(i));
            assertThat(JSON.convertValue(s.get("shape"), long[].class)).containsExactly(shapes.get(stages.get(i)));
            assertThat(s.get("min").asDouble()).isLessThanOrEqualTo(s.get("mean").asDouble());
        }
    }

    @Test
    void badInputsFailInOneLine() throws Exception {
        Path out = tmp.resolve("bad");
        Path npy = tmp.resolve("l.npy");
        Npy.write(npy, NpyArray.ofFloats(new long[] {1, 3, 8, 8}, new float[3 * 64]));
        assertThat(CliRun.of("vae", "--model", model(), "--out", out.toString()).errorLines()).singleElement().asString()
                .contains("give --image").contains("--latents");
        assertThat(CliRun.of("vae", "--model", model(), "--latents", npy.toString(), "--out", out.toString()).errorLines())
                .singleElement().asString().contains("do not fit this VAE, which decodes [B, 4, h, w]");
        assertThat(CliRun.of("vae", "--model", model(), "--latents", npy.toString(), "--sample", "--out", out.toString())
                .errorLines()).singleElement().asString().contains("give --image");
        Npy.write(npy, NpyArray.ofFloats(new long[] {1, 4, 8, 8}, new float[4 * 64]));
        assertThat(CliRun.of("vae", "--model", model(), "--latents", npy.toString(), "--row", "2", "--out", out.toString())
                .errorLines()).singleElement().asString().contains("--row 2 is outside the 1 rows");
        assertThat(CliRun.of("vae", "--model", model(), "--image", tmp.resolve("none.png").toString(), "--out",
                out.toString()).errorLines()).singleElement().asString().contains("none.png");
        assertThat(out.resolve("manifest.json")).doesNotExist();
    }
}
