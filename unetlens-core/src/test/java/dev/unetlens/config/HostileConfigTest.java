package dev.unetlens.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Config values a hostile or mistyped file can hold: out of what the model families can have (a hang building millions
 * of layers, gigabytes of placeholders), beyond int (silently narrowed: 4294967298 read as 2), negative (the JDK's
 * "List length = -2147483648"), an empty list where one entry is read, and text after the JSON object. Each fails in
 * one line that names the file, the field, the value and the range.
 */
class HostileConfigTest {
    @TempDir
    Path tmp;

    private Path write(String name, String json) throws Exception {
        return Files.writeString(tmp.resolve(name), json);
    }

    @ParameterizedTest(name = "{0}: {1} = {2}")
    @CsvSource(delimiter = '|', value = {
        "unet|layers_per_block|2097152|layers_per_block must be in [1, 16], got 2097152",
        "unet|layers_per_block|2147483647|layers_per_block must be in [1, 16], got 2147483647",
        "unet|layers_per_block|4294967298|layers_per_block must be in [1, 16], got 4294967298",
        "unet|layers_per_block|-2147483648|layers_per_block must be in [1, 16], got -2147483648",
        "unet|layers_per_block|-2|layers_per_block must be in [1, 16], got -2",
        "unet|cross_attention_dim|4294967328|cross_attention_dim must be in [1, 16384], got 4294967328",
        "unet|attention_head_dim|1000000000000000019884624838656|attention_head_dim must be in [1, 1024], got"
                + " 1000000000000000019884624838656",
        "unet|attention_head_dim|1e30|attention_head_dim must be an integer in [1, 1024], got 1.0E30",
        "unet|time_embedding_dim|2147483647|time_embedding_dim must be in [1, 65536], got 2147483647",
        "unet|in_channels|4194304|in_channels must be in [1, 256], got 4194304",
        "unet|transformer_layers_per_block|2147483647|transformer_layers_per_block must be in [0, 64], got 2147483647",
        "unet|block_out_channels|[320, 4294967616]|block_out_channels must be in [1, 16384], got 4294967616",
        "unet|block_out_channels|[32, 32, 32, 32, 32, 32, 32, 32, 32]|block_out_channels must have 1 to 8 entries, got 9",
        "unet|sample_size|4294967360|sample_size must be in [1, 1024], got 4294967360",
        "unet|norm_num_groups|0|norm_num_groups must be in [1, 1024], got 0",
        "vae|layers_per_block|2147483647|layers_per_block must be in [1, 16], got 2147483647",
        "vae|latent_channels|4294967300|latent_channels must be in [1, 256], got 4294967300",
        "vae|block_out_channels|[-128]|block_out_channels must be in [1, 16384], got -128",
        "vae|norm_num_groups|-32|norm_num_groups must be in [1, 1024], got -32",
        "text|num_hidden_layers|2147483647|num_hidden_layers must be in [1, 128], got 2147483647",
        "text|vocab_size|4294967296|vocab_size must be in [1, 1048576], got 4294967296",
        "text|max_position_embeddings|0|max_position_embeddings must be in [1, 8192], got 0",
        "text|architectures|[]|architectures is empty; it must name CLIPTextModel or CLIPTextModelWithProjection",
        "text|architectures|[\"BertModel\"]|architectures 'BertModel' is not a CLIP text model; it must name"
                + " CLIPTextModel or CLIPTextModelWithProjection",
    })
    void valuesOutOfRangeAreNamedOnce(String config, String field, String value, String message) throws Exception {
        Path file = write("config.json", "{\"" + field + "\": " + value + "}");
        assertTimeoutPreemptively(Duration.ofSeconds(10), () ->
                assertThatThrownBy(() -> {
                    switch (config) {
                        case "unet" -> UNetConfig.read(file);
                        case "vae" -> VaeConfig.read(file);
                        default -> ClipTextConfig.read(file);
                    }
                }).isInstanceOf(ConfigException.class).hasMessage(file + ": " + message));
    }

    /** A rule of the record's own (not a reader's) is placed in the file once, not twice. */
    @Test
    void recordRulesNameTheFileOnce() throws Exception {
        Path vae = write("vae.json", "{\"block_out_channels\": [33], \"norm_num_groups\": 32}");
        assertThatThrownBy(() -> VaeConfig.read(vae))
                .hasMessage(vae + ": block_out_channels [33] must be multiples of norm_num_groups 32");
        Path clip = write("clip.json", "{\"hidden_size\": 30, \"num_attention_heads\": 4}");
        assertThatThrownBy(() -> ClipTextConfig.read(clip))
                .hasMessage(clip + ": hidden_size 30 is not divisible by num_attention_heads 4");
    }

    /** As Python's json.load: one value, then only whitespace. */
    @ParameterizedTest
    @ValueSource(strings = {"{}}garbage", "{}\u0000", "{} {}", "{}]", "{\"a\": 1}x"})
    void contentAfterTheObjectIsRefused(String json) throws Exception {
        Path file = write("config.json", json);
        assertThatThrownBy(() -> JsonConfig.read(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ": not valid JSON at line 1")
                .hasMessageNotContaining("\n");
        assertThatCode(() -> JsonConfig.read(write("ok.json", "\n {\"a\": NaN, \"b\": -Infinity} \n\t")))
                .doesNotThrowAnyException();
    }

    @Test
    void integersAreNeverNarrowed() {
        JsonConfig c = JsonConfig.parse("c.json", "{\"a\": 4294967298, \"b\": [1, 4294967297], \"d\": 2.0}");
        assertThatThrownBy(() -> c.integer("a", 0)).hasMessage("c.json: a must be in [-2147483648, 2147483647], got 4294967298");
        assertThatThrownBy(() -> c.intList("b", null)).hasMessageContaining("got 4294967297");
        assertThatThrownBy(() -> c.integer("d", 0)).hasMessageContaining("must be an integer");
        assertThat(c.integer(new Range("x", 1, 3), 7)).as("a default is not checked").isEqualTo(7);
    }

    /** Values from the file are shortened and escaped in messages: one line, whatever the file holds. */
    @Test
    void valuesInMessagesAreOneShortLine() throws Exception {
        Path file = write("config.json", "{\"act_fn\": \"" + "x".repeat(100_000) + "\\nsecond line\"}");
        assertThatThrownBy(() -> UNetConfig.read(file))
                .hasMessageNotContaining("\n")
                .satisfies(e -> assertThat(e.getMessage().length()).isLessThan(300));
        Path key = write("key.json", "{\"a\\nb" + "k".repeat(10_000) + "\": 1}");
        assertThatThrownBy(() -> UNetConfig.read(key))
                .hasMessageStartingWith(key + ": 'a\\nbkkk")
                .satisfies(e -> assertThat(e.getMessage().length()).isLessThan(300));
    }
}
