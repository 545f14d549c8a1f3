package dev.unetlens.tokenizer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** Invariants of {@link ClipTokenizer#encode} on seeded random text, for both pad conventions. */
class ClipTokenizerPropertyTest {
    private static final List<ClipTokenizer> TOKENIZERS =
            List.of(ClipTokenizer.bundled("<|endoftext|>"), ClipTokenizer.bundled("!"));
    private static final int PROMPTS_PER_SEED = 150;
    private static final String SPACE_OR_CONTROL = " \t\n\r\u0007\u007f";
    private static final String TRICKY = " \t\n\u2028\u0345\u03a3\u0301\ufe0f\u200b!'<|>";

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 42, 1234, 99991})
    void randomUnicodeGivesWellFormedSequences(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int n = 0; n < PROMPTS_PER_SEED; n++) {
            String text = randomUnicode(rnd, rnd.nextInt(120));
            for (ClipTokenizer t : TOKENIZERS) {
                long[] untruncated = t.idsUntruncated(text);
                TokenizedPrompt p = t.encode(text);
                long[] ids = p.inputIds();
                assertThat(ids).as("ids of %s", escaped(text)).hasSize(77);
                assertThat(ids[0]).isEqualTo(t.bosId());
                assertThat(ids[p.length() - 1]).isEqualTo(t.eosId());
                assertThat(p.length()).isEqualTo(Math.min(untruncated.length, 77));
                assertThat(p.tokenTexts()).hasSize(77);
                for (int i = 0; i < 77; i++) {
                    assertThat(p.attentionMask()[i]).isEqualTo(i < p.length() ? 1L : 0L);
                    if (i >= p.length()) {
                        assertThat(ids[i]).isEqualTo(t.padId());
                    }
                }
                if (untruncated.length <= 77) {
                    long eosBeforePadding = Arrays.stream(ids, 0, p.length()).filter(id -> id == t.eosId()).count();
                    assertThat(eosBeforePadding).as("eos count in %s", escaped(text)).isEqualTo(1);
                }
            }
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {7, 8, 9, 2024})
    void asciiRoundTripsUpToCaseAndWhitespace(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int n = 0; n < PROMPTS_PER_SEED; n++) {
            StringBuilder sb = new StringBuilder();
            int len = rnd.nextInt(40);
            for (int i = 0; i < len; i++) {
                sb.append(rnd.nextInt(4) == 0 ? SPACE_OR_CONTROL.charAt(rnd.nextInt(SPACE_OR_CONTROL.length()))
                        : (char) rnd.nextInt(0x21, 0x7F));
            }
            String text = sb.toString();
            String expected = text.chars().filter(c -> c > ' ' && c != 0x7f).collect(StringBuilder::new,
                    StringBuilder::appendCodePoint, StringBuilder::append).toString().toLowerCase(Locale.ROOT);
            for (ClipTokenizer t : TOKENIZERS) {
                String decoded = t.decode(t.encode(text).inputIds());
                assertThat(decoded.replace(" ", "")).as("decode of %s", escaped(text)).isEqualTo(expected);
            }
        }
    }

    /** Code points from everywhere: ASCII, other scripts, CJK, emoji, marks, controls, surrogates, unassigned. */
    private static String randomUnicode(SplittableRandom rnd, int length) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            switch (rnd.nextInt(6)) {
                case 0 -> sb.append((char) rnd.nextInt(0x20, 0x7F));
                case 1 -> sb.appendCodePoint(rnd.nextInt(0x80, 0x800));
                case 2 -> sb.appendCodePoint(rnd.nextInt(0x800, 0x10000));   // lone surrogates included
                case 3 -> sb.appendCodePoint(rnd.nextInt(0x1F300, 0x1FAFF));
                case 4 -> sb.appendCodePoint(rnd.nextInt(0x10000, 0x110000));
                default -> sb.append(TRICKY.charAt(rnd.nextInt(TRICKY.length())));
            }
        }
        return sb.toString();
    }

    private static String escaped(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(cp -> sb.append(cp >= 0x20 && cp < 0x7F ? Character.toString(cp)
                : "\\u{%X}".formatted(cp)));
        return sb.toString();
    }
}
