package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.io.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code generate --previews}: the chosen steps' decoded x̂₀ and latents per image, a strip per image, the manifest's
 * record; previews leave the generation itself bit for bit as it is without them; a bad selection fails in one line.
 */
class PreviewCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private CliRun generate(Path model, String name, String... extra) {
        List<String> args = new ArrayList<>(List.of("generate", "--model", model.toString(), "-p", "a red apple",
                "--steps", "4", "--height", "64", "--width", "48", "--seed", "2", "--batch", "2", "--out",
                tmp.resolve(name).toString()));
        args.addAll(List.of(extra));
        return CliRun.of(args);
    }

    @Test
    void previewsOfChosenSteps() throws Exception {
        Path model = TinyModel.write(tmp);
        CliRun plain = generate(model, "plain");
        CliRun r = generate(model, "prev", "--previews", "1,3-4", "--scheduler", "pndm");
        CliRun pndmPlain = generate(model, "pndm", "--scheduler", "pndm");
        for (CliRun c : List.of(plain, r, pndmPlain)) {
            assertThat(c.code()).as(c.err()).isZero();
        }
        Path out = tmp.resolve("prev");
        assertThat(RgbImage.read(out.resolve("image-000.png")).rgb()).as("previews change nothing")
                .isEqualTo(RgbImage.read(tmp.resolve("pndm/image-000.png")).rgb());
        JsonNode m = JSON.readTree(out.resolve("manifest.json").toFile());
        assertThat(m.get("previews").get("steps")).extracting(JsonNode::asInt).containsExactly(1, 3, 4);
        List<String> files = new ArrayList<>();
        m.get("files").forEach(f -> files.add(f.get("file").asText()));
        assertThat(files).contains("previews/step-001-000-x0.png", "previews/step-004-001-x0.png",
                "previews/step-003-000-latents.png", "previews/strip-000.png", "previews/strip-001.png")
                .doesNotContain("previews/step-002-000-x0.png");
        RgbImage x0 = RgbImage.read(out.resolve("previews/step-004-001-x0.png"));
        assertThat(x0.width()).isEqualTo(48);
        assertThat(x0.height()).isEqualTo(64);
        CliRun all = generate(model, "all", "--previews");
        assertThat(all.code()).as(all.err()).isZero();
        assertThat(tmp.resolve("all/previews/step-002-001-x0.png")).exists();
    }

    @Test
    void badSelectionFailsBeforeAnyFile() {
        Path model = TinyModel.write(tmp);
        assertThat(generate(model, "bad", "--previews", "5").errorLines()).singleElement().asString()
                .contains("--previews").contains("outside 1–4");
        assertThat(tmp.resolve("bad")).doesNotExist();
    }
}
