package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.io.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * generate's text edits: recorded in the manifest (per encoder: token, id, terms, where replaced) and in the PNG's
 * A1111 parameters; an identity swap gives the plain run's pixels; mistakes fail in one line before any file.
 */
class TextEditCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private Path model;

    private CliRun generate(String name, String... extra) {
        if (model == null) {
            model = TinyModel.write(tmp);
        }
        String[] base = {"generate", "--model", model.toString(), "-p", "a puppy on a puppy", "--steps", "2",
            "--height", "64", "--width", "64", "--seed", "5", "--out", tmp.resolve(name).toString()};
        String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return CliRun.of(all);
    }

    @Test
    void recordedInManifestAndPng() throws Exception {
        CliRun plain = generate("plain");
        CliRun same = generate("same", "--token-swap", "puppy=puppy");
        CliRun edited = generate("edited", "--token-mix", "puppy=0.6*puppy+0.4*skunk", "--position-scale", "0@1-2",
                "--edit", "text_encoder:text_model.encoder.layers.1:scale=2");
        for (CliRun r : new CliRun[] {plain, same, edited}) {
            assertThat(r.code()).as(r.err()).isZero();
        }
        RgbImage p = RgbImage.read(tmp.resolve("plain/image.png"));
        assertThat(RgbImage.read(tmp.resolve("same/image.png")).rgb()).isEqualTo(p.rgb());
        assertThat(RgbImage.read(tmp.resolve("edited/image.png")).rgb()).isNotEqualTo(p.rgb());
        JsonNode m = JSON.readTree(tmp.resolve("edited/manifest.json").toFile());
        JsonNode mix = m.get("text_edits").get(0);
        assertThat(mix.get("edit").asText()).isEqualTo("--token-mix puppy=0.6*puppy+0.4*skunk");
        assertThat(mix.get("encoder").asText()).isEqualTo("text_encoder");
        assertThat(mix.get("token").asText()).isEqualTo("puppy</w>");
        assertThat(mix.get("replaced_at")).extracting(JsonNode::asText).containsExactly("0:2", "0:5");
        assertThat(mix.get("terms").get(1).get("token").asText()).isEqualTo("skunk</w>");
        assertThat(m.get("text_edits").get(1).get("positions").asText()).isEqualTo("1-2");
        assertThat(m.get("edits").get(0).get("point").asText()).isEqualTo("text_encoder:text_model.encoder.layers.1");
        String params = RgbImage.readPngText(tmp.resolve("edited/image.png")).get("parameters");
        assertThat(params).contains("Edits: \"--edit text_encoder:text_model.encoder.layers.1:scale=2; --token-mix"
                + " puppy=0.6*puppy+0.4*skunk; --position-scale 0@1-2\"");
        assertThat(RgbImage.readPngText(tmp.resolve("plain/image.png")).get("parameters")).doesNotContain("Edits:");
    }

    @Test
    void diffShowsWhatASwapMoves() throws Exception {
        generate("warm");                                                   // writes the model
        Path out = tmp.resolve("diff");
        CliRun d = CliRun.of("diff", "--model", model.toString(), "-p", "a puppy", "--steps", "2", "--height", "64",
                "--width", "64", "--token-swap", "puppy=skunk", "--at", "M00", "--out", out.toString());
        assertThat(d.code()).as(d.err()).isZero();
        JsonNode m = JSON.readTree(out.resolve("manifest.json").toFile());
        assertThat(m.get("text_edits").get(0).get("edit").asText()).isEqualTo("--token-swap puppy=skunk");
        assertThat(m.get("results").get("latent_l2").asDouble()).isPositive();
        CliRun none = CliRun.of("diff", "--model", model.toString(), "-p", "a puppy", "--out", tmp.resolve("d2").toString());
        assertThat(none.errorLines()).singleElement().asString().contains("--token-swap");
    }

    @Test
    void mistakesFailBeforeAnyFile() {
        assertThat(generate("a", "--token-swap", "kitten=skunk").errorLines()).singleElement().asString()
                .contains("the prompt has no 'kitten' token");
        assertThat(generate("b", "--token-mix", "puppy=0.5*").errorLines()).singleElement().asString()
                .contains("--token-mix");
        assertThat(generate("c", "--position-scale", "0@77").errorLines()).singleElement().asString()
                .contains("out of range");
        assertThat(tmp.resolve("a")).doesNotExist();
    }
}
