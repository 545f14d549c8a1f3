package dev.unetlens.tokenizer;

import dev.unetlens.UnetlensException;
import dev.unetlens.config.ConfigException;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.ModelCopy;
import dev.unetlens.io.SpecialFiles;
import dev.unetlens.pipeline.StableDiffusion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Tokenizer files a model folder can hold that are not what their names say: a {@code model_max_length} of 2³¹−1
 * (out of memory) or 10⁶ (accepted, then "index out of range in self" at generation), ids no encoder has, and
 * {@code vocab.json} as a link to {@code /dev/zero} (read whole: out of memory) or as a FIFO (blocked forever).
 */
class HostileTokenizerFilesTest {
    @TempDir
    Path tmp;

    private Path tokenizer() {
        Path copy = ModelCopy.of(Golden.get().models().getFirst(), tmp.resolve("m"));
        return copy.resolve("tokenizer");
    }

    @ParameterizedTest
    @ValueSource(strings = {"2147483647", "1000000", "1", "-5", "1000000000000000019884624838656"})
    void modelMaxLengthIsBounded(String value) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("t"));
        Path config = Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": " + value + "}");
        assertThatThrownBy(() -> TokenizerConfig.read(dir)).isInstanceOf(ConfigException.class)
                .hasMessage(config + " / special_tokens_map.json: model_max_length must be in [2, 8192], got " + value);
    }

    /** In range but longer than the text encoder's positions: refused when the model loads, not mid-generation. */
    @Test
    void modelMaxLengthMustFitTheTextEncoder() {
        Path dir = tokenizer();
        ModelCopy.writeString(dir.getParent(), "tokenizer/tokenizer_config.json", "{\"model_max_length\": 1000}");
        assertThatThrownBy(() -> StableDiffusion.load(dir.getParent(), StableDiffusion.Options.DEFAULT).close())
                .isInstanceOf(UnetlensException.class)
                .hasMessageStartingWith(dir + ": model_max_length 1000 is more than the text encoder's"
                        + " max_position_embeddings ")
                .hasMessageContaining(dir.getParent().resolve("text_encoder/config.json").toString());
    }

    /** An id past the encoder's vocabulary would fail at generation; it fails at load. */
    @Test
    void idsMustFitTheTextEncoder() {
        Path dir = tokenizer();
        ModelCopy.writeString(dir.getParent(), "tokenizer/added_tokens.json", "{\"<new>\": 1000000}");
        assertThatThrownBy(() -> StableDiffusion.load(dir.getParent(), StableDiffusion.Options.DEFAULT).close())
                .isInstanceOf(UnetlensException.class)
                .hasMessageStartingWith(dir + ": token id 1000000 is past the text encoder's vocab_size ");
        ModelCopy.writeString(dir.getParent(), "tokenizer/added_tokens.json", "{\"<new>\": 2147483646}");
        assertThatThrownBy(() -> TokenizerConfig.read(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("id must be an integer in [0, 1048575], got '2147483646'");
        ModelCopy.writeString(dir.getParent(), "tokenizer/vocab.json", "{\"a\": 2147483646}");
        assertThatThrownBy(() -> ClipVocab.read(dir)).isInstanceOf(ConfigException.class)
                .hasMessage(dir.resolve("vocab.json") + ": id of 'a' must be an integer in [0, 1048575], got 2147483646");
    }

    /** Only regular files are read, and only up to a size: no device is read forever, no FIFO blocks. */
    @Test
    void vocabularyFilesMustBeRegularFiles() throws IOException {
        Path dir = tokenizer();
        Path vocab = dir.resolve("vocab.json");
        Files.delete(vocab);
        Files.createSymbolicLink(vocab, Path.of("/dev/zero"));
        assertThatThrownBy(() -> ClipVocab.read(dir)).isInstanceOf(UnetlensException.class)
                .hasMessage(vocab + ": is a FIFO, device or socket, not a regular file; unetlens reads only regular files");
        Files.delete(vocab);
        SpecialFiles.fifo(vocab);
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThatThrownBy(() -> ClipVocab.read(dir))
                    .hasMessageContaining("is a FIFO"));
        } finally {
            SpecialFiles.unblock(vocab);
        }
        Files.delete(vocab);
        Files.createDirectory(vocab);
        assertThatThrownBy(() -> ClipVocab.read(dir)).hasMessage(vocab + ": is a directory, not a file");
        Path config = dir.resolve("tokenizer_config.json");
        Files.delete(config);
        SpecialFiles.fifo(config);
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThatThrownBy(() -> TokenizerConfig.read(dir))
                    .hasMessageStartingWith(config + ": is a FIFO"));
        } finally {
            SpecialFiles.unblock(config);
        }
    }

    @Test
    void textFilesAreReadOnlyUpToTheirBound() throws IOException {
        Path dir = tokenizer();
        Path merges = dir.resolve("merges.txt");
        Files.delete(merges);
        try (var f = new java.io.RandomAccessFile(merges.toFile(), "rw")) {
            f.setLength(dev.unetlens.io.InputFiles.MAX_TEXT_BYTES + 1);   // sparse: no disk used
        }
        assertThatThrownBy(() -> ClipVocab.read(dir)).isInstanceOf(UnetlensException.class)
                .hasMessage(merges + ": " + (dev.unetlens.io.InputFiles.MAX_TEXT_BYTES + 1) + " bytes is more than the "
                        + dev.unetlens.io.InputFiles.MAX_TEXT_BYTES + " that a file of this kind may hold; is it the right"
                        + " file?");
    }
}
