package dev.unetlens.viz;

import dev.unetlens.io.Png;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Every kind of picture, written through an output directory: files, manifest entries, sizes, PNG text. */
class PicturesTest {
    @Test
    void everyKindIsWrittenAndRecorded(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("viz");
        OutputDirectory out = OutputDirectory.open(dir, "viz", false);
        Samples.renderAll(out, new SyntheticScene(), false);

        JsonNode manifest = JsonMapper.builder().build().readTree(dir.resolve(OutputDirectory.MANIFEST).toFile());
        Set<String> kinds = new HashSet<>();
        for (JsonNode f : manifest.get("files")) {
            Path file = dir.resolve(f.get("file").asText());
            assertThat(file).exists();
            assertThat(f.get("bytes").asLong()).isEqualTo(Files.size(file));
            kinds.add(f.get("kind").asText());
            if (file.toString().endsWith(".png")) {
                BufferedImage img = ImageIO.read(file.toFile());
                assertThat(img.getWidth()).isEqualTo(f.get("width").asInt());
                assertThat(img.getHeight()).isEqualTo(f.get("height").asInt());
                assertThat(img.getWidth()).isLessThan(4000);
                assertThat(img.getHeight()).isLessThan(4000);
                assertThat(Png.readText(file)).containsEntry("Title", f.get("kind").asText())
                        .containsEntry("Description", f.get("description").asText());
            } else {
                assertThat(f.get("format").asText()).isEqualTo("svg");
                assertThat(Files.readString(file)).contains("<svg");
            }
        }
        assertThat(kinds).containsExactlyInAnyOrder("feature-grid", "reduced-map", "step-strip", "unet-overview",
                "cross-attention-grid", "token-attention-mass", "word-heat-map", "self-attention", "pca-rgb",
                "cosine-similarity", "token-norms", "token-norm-histogram");
    }
}
