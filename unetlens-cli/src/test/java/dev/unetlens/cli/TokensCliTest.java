package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code unetlens tokens}: the table of token ids, texts, mask and pooled position; the arrays (token + position =
 * input embeddings, hidden states stacked as transformers does) and the pictures, for every text encoder of a model.
 */
class TokensCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** A golden model with {@code encoders} text encoders. */
    private static String model(int encoders) {
        return Golden.get().models().stream().filter(m -> Golden.get().path("models/" + m + "/text_encoder_2")
                .toFile().isDirectory() == (encoders == 2)).map(m -> Golden.get().path("models/" + m).toString())
                .findFirst().orElseThrow();
    }

    @Test
    void tableArraysAndPictures() throws Exception {
        Path out = tmp.resolve("tokens");
        CliRun r = CliRun.of("tokens", "--model", model(1), "--prompt", "A picture of a puppy", "--layer", "1",
                "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.getFirst()).startsWith("text_encoder (CLIPTextModel, ").contains("\"A picture of a puppy\" · 7 of 77 tokens");
        assertThat(lines).anySatisfy(l -> assertThat(l).matches(" +5 +6829 +puppy +1"));
        assertThat(lines).anySatisfy(l -> assertThat(l).matches(" +6 +49407 +<\\|endoftext\\|> +1 +← pooled output taken here"));
        assertThat(lines).anySatisfy(l -> assertThat(l).matches(" +7–76 +\\d+ +\\(padding ×70\\) +0"));
        JsonNode m = JSON.readTree(out.resolve("manifest.json").toFile());
        assertThat(m.get("status").asText()).isEqualTo("complete");
        JsonNode enc = m.get("encoders").get(0);
        assertThat(enc.get("pooled_position").asInt()).isEqualTo(6);
        assertThat(enc.get("input_ids").get(5).asLong()).isEqualTo(6829);
        List<String> files = new ArrayList<>();
        m.get("files").forEach(f -> files.add(f.get("file").asText()));
        assertThat(files).contains("text_encoder/token-norms.png", "text_encoder/token-norms-chart.png",
                "text_encoder/token-norms-chart.svg", "text_encoder/token-similarity-layer-1.png");
        NpyArray token = Npy.read(out.resolve("text_encoder/token_embeddings.npy"));
        NpyArray position = Npy.read(out.resolve("text_encoder/position_embeddings.npy"));
        NpyArray input = Npy.read(out.resolve("text_encoder/input_embeddings.npy"));
        NpyArray states = Npy.read(out.resolve("text_encoder/hidden_states.npy"));
        float[] t = token.toFloats();
        float[] p = position.toFloats();
        float[] in = input.toFloats();
        for (int i = 0; i < in.length; i++) {
            assertThat(in[i]).isEqualTo(t[i] + p[i]);
        }
        assertThat(states.shape()[0]).isEqualTo(enc.get("layers").asInt() + 1);
        assertThat(java.util.Arrays.copyOf(states.toFloats(), in.length)).containsExactly(in);
    }

    @Test
    void bothEncodersOfSdxlAndJson() throws Exception {
        CliRun r = CliRun.of("tokens", "--model", model(2), "--prompt", "a cat", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = JSON.readTree(r.out());
        assertThat(j).extracting(e -> e.get("component").asText()).containsExactly("text_encoder", "text_encoder_2");
        assertThat(j.get(1).get("pad_token").asText()).isEqualTo("!");       // SDXL's second tokenizer pads with "!"
    }

    /** tokens shows what a swap does: the swapped prompt's arrays are bit for bit the other word's. */
    @Test
    void textEditsChangeWhatTheArraysShow() throws Exception {
        Path swapped = tmp.resolve("swapped");
        Path skunk = tmp.resolve("skunk");
        CliRun a = CliRun.of("tokens", "--model", model(2), "--prompt", "a puppy", "--token-swap", "puppy=skunk",
                "--out", swapped.toString());
        CliRun b = CliRun.of("tokens", "--model", model(2), "--prompt", "a skunk", "--out", skunk.toString());
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(b.code()).as(b.err()).isZero();
        assertThat(a.out()).contains("text edits: --token-swap puppy=skunk");
        for (String enc : List.of("text_encoder", "text_encoder_2")) {
            for (String f : List.of("token_embeddings.npy", "input_embeddings.npy", "hidden_states.npy")) {
                assertThat(Npy.read(swapped.resolve(enc + "/" + f)).toFloats()).as(enc + "/" + f)
                        .isEqualTo(Npy.read(skunk.resolve(enc + "/" + f)).toFloats());
            }
        }
        JsonNode m = JSON.readTree(swapped.resolve("manifest.json").toFile());
        assertThat(m.get("text_edits")).hasSize(2);
        assertThat(m.get("encoders").get(0).get("input_ids").get(2).asLong()).as("the ids stay the prompt's")
                .isNotEqualTo(JSON.readTree(skunk.resolve("manifest.json").toFile()).get("encoders").get(0)
                        .get("input_ids").get(2).asLong());
    }

    @Test
    void badOptionsFailInOneLine() {
        Path out = tmp.resolve("bad");
        CliRun r = CliRun.of("tokens", "--model", model(1), "--prompt", "x", "--layer", "99", "--out", out.toString());
        assertThat(r.errorLines()).singleElement().asString().contains("--layer must be in [0, ");
        r = CliRun.of("tokens", "--model", model(1), "--prompt", "x", "--component", "text_encoder_2");
        assertThat(r.errorLines()).singleElement().asString().contains("has one text encoder");
        r = CliRun.of("tokens", "--model", model(1), "--prompt", "x", "--component", "vae");
        assertThat(r.errorLines()).singleElement().asString().contains("--component of tokens is a text encoder");
        assertThat(out).doesNotExist();
    }
}
