package dev.unetlens.tokenizer;

import dev.unetlens.config.ConfigException;
import dev.unetlens.golden.Golden;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** README §1: vocab.json / merges.txt are derived from OpenAI's merge file, which unetlens bundles. */
class ClipVocabTest {

    /** Every {@code models/<model>/tokenizer*} folder of the fixtures. */
    static List<Path> goldenTokenizerFolders() {
        Golden g = Golden.get();
        return g.models().stream().flatMap(model -> {
            try (Stream<Path> s = Files.list(g.path("models/" + model))) {
                return s.filter(p -> p.getFileName().toString().startsWith("tokenizer"))
                        .filter(p -> Files.isRegularFile(p.resolve("vocab.json"))).sorted().toList().stream();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).toList();
    }

    @TestFactory
    Stream<DynamicTest> bundledVocabularyEqualsEveryModelsFiles() {
        List<Path> folders = goldenTokenizerFolders();
        assertThat(folders).isNotEmpty();
        ClipVocab bundled = ClipVocab.bundled();
        return folders.stream().map(folder -> DynamicTest.dynamicTest(Golden.get().root().relativize(folder).toString(),
                () -> {
                    ClipVocab files = ClipVocab.read(folder);
                    assertThat(bundled.merges()).containsExactlyElementsOf(files.merges());
                    assertThat(bundled.encoder()).isEqualTo(files.encoder());
                }));
    }

    @Test
    void bundledVocabularyHasClipsSizes() {
        ClipVocab v = ClipVocab.bundled();
        assertThat(v.merges()).hasSize(ClipVocab.MAX_MERGES).first().isEqualTo(new ClipVocab.Merge("i", "n"));
        assertThat(v.encoder()).hasSize(49408).containsEntry("!", 0).containsEntry("!</w>", 256)
                .containsEntry("in", 512).containsEntry("<|startoftext|>", 49406).containsEntry("<|endoftext|>", 49407);
    }

    @Test
    void bundledFileIsTheFixturesCopy() throws IOException {
        try (InputStream in = ClipVocab.class.getResourceAsStream("bpe_simple_vocab_16e6.txt.gz")) {
            assertThat(in).isNotNull();
            assertThat(in.readAllBytes()).isEqualTo(Files.readAllBytes(
                    Golden.get().path("clip/bpe_simple_vocab_16e6.txt.gz")));
        }
        assertThat(ClipVocab.class.getResource("LICENSE-CLIP.txt")).isNotNull();
    }

    @Test
    void mergesWithoutVersionHeaderAreRejected(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0}");
        Files.writeString(dir.resolve("merges.txt"), "i n\nt h\n");
        assertThatThrownBy(() -> ClipVocab.read(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("merges.txt").hasMessageContaining("#version");
    }

    @Test
    void malformedMergeLineIsRejectedWithItsLineNumber(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0}");
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\ni n\nt h e\n");
        assertThatThrownBy(() -> ClipVocab.read(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("line 3");
    }

    /** Strings over symbols, ASCII and Unicode whitespace and a few letters, seeded; stripped as parseMerges does. */
    static Stream<String> mergeLines() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(20261123);
        char[] alphabet = {'a', 'b', 'Ġ', '<', '/', 'w', '>', ' ', ' ', '\t', '\u000B', '\f', '\r', '\u00A0', '\u2028',
                '\u001C', '\u3000'};
        return Stream.generate(() -> {
            StringBuilder sb = new StringBuilder();
            for (int i = rnd.nextInt(9); i > 0; i--) {
                sb.append(alphabet[rnd.nextInt(alphabet.length)]);
            }
            return sb.toString().strip();
        }).limit(400);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("mergeLines")
    void aMergeLineSplitsAsTheRegexDoes(String line) {
        String[] parts = line.split("\\s+");
        ClipVocab.Merge expected = parts.length == 2 ? new ClipVocab.Merge(parts[0], parts[1]) : null;
        assertThat(ClipVocab.pair(line)).isEqualTo(expected);
    }

    @Test
    void theBundledVocabularyReadsOnlyTheLinesItKeepsAndEqualsTheWholeFilesParse(@TempDir Path dir) throws IOException {
        // the whole decompressed merge file as merges.txt and its vocabulary as vocab.json: ClipVocab.read parses
        // all of it, the bundled loader stops after the last merge it keeps
        String whole;
        try (InputStream in = new java.util.zip.GZIPInputStream(
                ClipVocab.class.getResourceAsStream("bpe_simple_vocab_16e6.txt.gz"))) {
            whole = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        ClipVocab bundled = ClipVocab.bundled();
        Files.writeString(dir.resolve("merges.txt"), whole);
        com.fasterxml.jackson.databind.node.ObjectNode vocab =
                new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        bundled.encoder().forEach(vocab::put);
        Files.writeString(dir.resolve("vocab.json"), vocab.toString());
        assertThat(ClipVocab.read(dir).merges()).containsExactlyElementsOf(bundled.merges());
        assertThat(whole.lines().count()).isGreaterThan(ClipVocab.MAX_MERGES + 1);
    }
}
