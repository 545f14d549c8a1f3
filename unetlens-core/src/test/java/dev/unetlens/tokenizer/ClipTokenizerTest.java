package dev.unetlens.tokenizer;

import dev.unetlens.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Labels, decoding, truncation, configuration files and the reference's edge cases beyond the golden prompts. */
class ClipTokenizerTest {
    private static final ClipTokenizer SD1 = ClipTokenizer.bundled("<|endoftext|>");
    private static final ClipTokenizer SD2 = ClipTokenizer.bundled("!");

    @Test
    void tokenTextsLabelEveryPosition() {
        TokenizedPrompt p = SD1.encode("A picture of a puppy");
        assertThat(p.length()).isEqualTo(7);
        assertThat(p.tokenTexts()).hasSize(77).startsWith(
                "<|startoftext|>", "a", "picture", "of", "a", "puppy", "<|endoftext|>");
        assertThat(p.tokenTexts().subList(7, 77)).containsOnly(TokenizedPrompt.PADDING);
        assertThat(SD2.encode("A picture of a puppy").tokenTexts()).isEqualTo(p.tokenTexts());
    }

    @Test
    void tokenTextsShowBytesOfCharactersSplitAcrossTokens() {
        // 日 is one token, 本 is split into bytes E6 9C | AC, ❤️ (U+2764 U+FE0F) is one token
        assertThat(SD1.bpeTokens("日本 ❤️ café"))
                .containsExactly("æĹ¥</w>", "æľ", "¬</w>", "âĿ¤ï¸ı</w>", "cafÃ©</w>");
        assertThat(SD1.encode("日本 ❤️ café").tokenTexts().subList(1, 6))
                .containsExactly("日", "<0xE6><0x9C>", "<0xAC>", "❤️", "café");
    }

    @Test
    void decodeJoinsBytesBeforeReadingUtf8AndDropsPadding() {
        assertThat(SD1.decode(SD1.encode("A picture of a puppy").inputIds())).isEqualTo("a picture of a puppy");
        // 本 spans two tokens; each CJK ideograph is a word of its own
        assertThat(SD1.decode(SD1.encode("日本語").inputIds())).isEqualTo("日 本 語");
        // SD 2.x pads with "!" (id 0): the padding goes, the prompt's own "!" stays
        long[] ids = SD2.encode("Hello, World!").inputIds();
        assertThat(ids).startsWith(49406, 3306, 267, 1002, 0, 49407, 0, 0);
        assertThat(SD2.decode(ids)).isEqualTo("hello , world !");
        assertThat(SD1.decode(new long[] {320, 6829})).isEqualTo("a puppy");
    }

    @Test
    void decodeRejectsIdsOutsideTheVocabulary() {
        assertThatThrownBy(() -> SD1.decode(new long[] {49408})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("49408");
        assertThatThrownBy(() -> SD1.tokenText(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void longPromptKeepsBosTheFirst75TokensAndEos() {
        String text = String.join(" ", Collections.nCopies(100, "a"));
        assertThat(SD1.idsUntruncated(text)).hasSize(102);
        TokenizedPrompt p = SD2.encode(text);
        long[] expected = LongStream.concat(LongStream.of(49406),
                LongStream.concat(LongStream.generate(() -> 320).limit(75), LongStream.of(49407))).toArray();
        assertThat(p.length()).isEqualTo(77);
        assertThat(p.inputIds()).containsExactly(expected);
        assertThat(p.attentionMask()).containsOnly(1L);
    }

    @Test
    void batchEncodeKeepsOrder() {
        List<TokenizedPrompt> batch = SD1.encode(List.of("a cat", "", "a dog"));
        assertThat(batch).extracting(TokenizedPrompt::length).containsExactly(4, 2, 4);
        assertThat(batch.get(2)).isEqualTo(SD1.encode("a dog"));
    }

    @Test
    void encodedPromptIsImmutable() {
        TokenizedPrompt p = SD1.encode("a cat");
        p.inputIds()[1] = 7;
        p.attentionMask()[70] = 1;
        assertThat(p).isEqualTo(SD1.encode("a cat"));
    }

    @Test
    void concurrentEncodingMatchesSequential() {
        ClipTokenizer fresh = ClipTokenizer.bundled("!");   // cold BPE cache, filled concurrently
        List<String> prompts = IntStream.range(0, 400)
                .mapToObj(i -> "prompt " + Integer.toString(i * 7919, 36) + " über Σ" + i + " 日本" + (char) ('a' + i))
                .toList();
        List<TokenizedPrompt> parallel = prompts.parallelStream().map(fresh::encode).toList();
        assertThat(parallel).isEqualTo(prompts.stream().map(SD2::encode).toList());
    }

    /**
     * Ids between bos and eos from transformers' slow CLIPTokenizer algorithm (ftfy absent) with pad
     * {@code <|endoftext|>} and, where they differ, with pad {@code !}.
     */
    static Stream<Arguments> referenceEdgeCases() {
        return Stream.of(
                // U+0345 matches no alternative of the IGNORECASE regex and vanishes like a space
                Arguments.of("a\u0345b", new long[] {320, 321}, null),
                // Python's final-sigma rule, not Java's word-boundary one
                Arguments.of("ΟΔΟΣ ΟΔΟΣ. AΣ6B Σ", new long[] {138, 123, 138, 112, 138, 123, 139, 480, 138, 123, 138,
                        112, 138, 123, 139, 480, 269, 64, 139, 480, 277, 321, 139, 481}, null),
                // upper-case specials are not added tokens but become them after lower-casing ...
                Arguments.of("<|STARTOFTEXT|>x", new long[] {49406, 343}, null),
                // ... unless punctuation in front swallows "<|" into one pre-token; "!" is split first with pad "!"
                Arguments.of("a!<|STARTOFTEXT|>", new long[] {320, 0, 27, 347, 993, 6659, 4160, 91, 285},
                        new long[] {320, 0, 49406}),
                Arguments.of("wow!!", new long[] {2781, 748}, new long[] {2781, 0, 0}),
                // format characters go before the regex sees the special string
                Arguments.of("<|endo\u200bftext|>", new long[] {49407}, null),
                // ſ matches 's case-insensitively
                Arguments.of("it'ſ", new long[] {585, 6, 129, 379}, null),
                // U+2028 splits words like Python's str.split; NBSP and ideographic space are Zs
                Arguments.of("a\u2028b\u00a0c\u3000d", new long[] {320, 321, 322, 323}, null),
                // a lone surrogate is category Cs and removed
                Arguments.of("x\ud800y\ud83d\ude00", new long[] {11443, 7334}, null),
                // NFC composes conjoining jamo and combining accents
                Arguments.of("\u1100\u1161\u11a8", new long[] {21122, 479}, null),
                Arguments.of("e\u0301", new long[] {4166}, null),
                // a mark that does not compose is not a letter: it ends the word and joins the punctuation run
                Arguments.of("caf\u0301e", new long[] {20867, 136, 479, 324}, null),
                Arguments.of("x\ufe0f", new long[] {343, 1001}, null),
                Arguments.of("\u2764\ufe0f!", new long[] {2626, 256}, new long[] {1752, 0}),
                // full lower-case mapping: İ → i + U+0307
                Arguments.of("İ", new long[] {328, 16384}, null),
                // supplementary and compatibility CJK ideographs are spaced out too
                Arguments.of("\ud840\udc00\ud840\udc01x",
                        new long[] {172, 254, 222, 478, 172, 254, 222, 479, 343}, null),
                Arguments.of("\uf900a", new long[] {164, 109, 486, 320}, null),
                Arguments.of("\u0000\ufffd\u0007\u200b", new long[] {}, null));
    }

    @ParameterizedTest
    @MethodSource("referenceEdgeCases")
    void matchesReferenceOnEdgeCases(String text, long[] withEosPad, long[] withBangPad) {
        assertThat(SD1.idsUntruncated(text)).containsExactly(framed(withEosPad));
        assertThat(SD2.idsUntruncated(text)).containsExactly(framed(withBangPad == null ? withEosPad : withBangPad));
    }

    private static long[] framed(long[] ids) {
        return LongStream.concat(LongStream.concat(LongStream.of(49406), Arrays.stream(ids)), LongStream.of(49407))
                .toArray();
    }

    @Test
    void padTokenMayBeAnAddedTokenObject(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"pad_token\": \"<|endoftext|>\"}");
        Files.writeString(dir.resolve("special_tokens_map.json"), """
                {"pad_token": {"content": "!", "lstrip": false, "normalized": false, "rstrip": false,
                               "single_word": false}}""");
        ClipTokenizer t = ClipTokenizer.of(ClipVocab.bundled(), TokenizerConfig.read(dir));
        assertThat(t.padId()).isZero();
        assertThat(t.encode("wow!!")).isEqualTo(SD2.encode("wow!!"));
    }

    @Test
    void addedTokensDecoderReplacesSpecialTokensMap(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"pad_token": "!", "model_max_length": 77, "added_tokens_decoder": {
                  "0": {"content": "!", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false,
                        "special": true},
                  "49408": {"__type": "AddedToken", "content": "<cat-toy>", "single_word": false}}}""");
        Files.writeString(dir.resolve("special_tokens_map.json"), "{\"pad_token\": \"<|endoftext|>\"}");
        ClipTokenizer t = ClipTokenizer.of(ClipVocab.bundled(), TokenizerConfig.read(dir));
        assertThat(t.padId()).isZero();
        long[] ids = t.idsUntruncated("a <cat-toy>photo");
        assertThat(ids).containsExactly(49406, 320, 49408, 1125, 49407);
        assertThat(t.tokenText(49408)).isEqualTo("<cat-toy>");
        assertThat(t.decode(ids)).isEqualTo("a <cat-toy>photo");
    }

    @Test
    void legacyAddedTokensFileAddsTokens(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("added_tokens.json"), "{\"<cat-toy>\": 49408}");
        ClipTokenizer t = ClipTokenizer.of(ClipVocab.bundled(), TokenizerConfig.read(dir));
        assertThat(t.idsUntruncated("<cat-toy> photo")).containsExactly(49406, 49408, 1125, 49407);
        assertThat(t.padId()).isEqualTo(49407);
        assertThat(t.modelMaxLength()).isEqualTo(77);
    }

    @Test
    void singleWordAddedTokenStaysTextInsideAWord() {
        AddedToken bang = new AddedToken("!", false, false, true);
        var config = new TokenizerConfig(AddedToken.of("<|startoftext|>"), AddedToken.of("<|endoftext|>"),
                AddedToken.of("<|endoftext|>"), bang, Map.of(), 77);
        ClipTokenizer t = ClipTokenizer.of(ClipVocab.bundled(), config);
        assertThat(t.bpeTokens("a ! b")).containsExactly("a</w>", "!", "b</w>");
        assertThat(t.bpeTokens("wow! b")).containsExactly("wow</w>", "!</w>", "b</w>");
    }

    @Test
    void lstripAndRstripSwallowAdjacentWhitespace() {
        AddedToken strip = new AddedToken("!", true, true, false);
        var splitter = new AddedTokenSplitter(Map.of("!", strip), Map.of("!", 0));
        assertThat(splitter.split("a \u2028! \tb")).extracting(AddedTokenSplitter.Piece::text)
                .containsExactly("a", "!", "b");
        var plain = new AddedTokenSplitter(Map.of("!", AddedToken.of("!")), Map.of("!", 0));
        assertThat(plain.split("a ! b")).extracting(AddedTokenSplitter.Piece::text).containsExactly("a ", "!", " b");
    }

    @Test
    void specialTokenMissingFromVocabularyIsRejected(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("special_tokens_map.json"), "{\"pad_token\": \"<pad>\"}");
        assertThatThrownBy(() -> ClipTokenizer.of(ClipVocab.bundled(), TokenizerConfig.read(dir)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("pad_token").hasMessageContaining("<pad>");
    }

    @Test
    void badConfigValuesAreRejected(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 1}");
        assertThatThrownBy(() -> TokenizerConfig.read(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("model_max_length");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"pad_token\": {\"lstrip\": true}}");
        assertThatThrownBy(() -> TokenizerConfig.read(dir)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("pad_token").hasMessageContaining("content");
    }
}
