package dev.unetlens.tokenizer;

import java.text.Normalizer;
import java.util.Locale;

/**
 * Text clean-up before BPE: transformers {@code BasicTokenizer.tokenize} as {@code CLIPTokenizer} builds it when
 * ftfy is absent ({@code BasicTokenizer(strip_accents=False, do_split_on_punc=False)}), whose words
 * {@code CLIPTokenizer._tokenize} re-joins with single spaces. In order:
 * <ol>
 *   <li>{@code _clean_text}: drop code point 0, U+FFFD and every category C* character (control, format such as
 *       U+200B, private use, surrogate, unassigned) except {@code \t \n \r}; map those three, the space and
 *       category Zs to a space;</li>
 *   <li>{@code _tokenize_chinese_chars}: a space before and after each CJK ideograph ({@link #isChineseChar});</li>
 *   <li>NFC;</li>
 *   <li>{@code whitespace_tokenize}: Python's {@code str.split()}, which also splits at U+2028 / U+2029
 *       ({@link #isPythonSpace});</li>
 *   <li>{@code str.lower()} of each word (full case mapping with the final-sigma rule, no accent stripping, no
 *       punctuation splitting), then join with single spaces.</li>
 * </ol>
 * Character properties come from the JDK's Unicode tables (Java 25: Unicode 16); the reference takes them from
 * Python's {@code unicodedata}, so they agree on every character assigned in both versions (checked code point by
 * code point against Python 3.11 for the categories, {@link Normalizer} NFC and the case mappings).
 */
final class BasicTokenizer {
    private static final int CAPITAL_SIGMA = 0x3A3;
    /** Word_Break MidLetter, MidNumLet and Single_Quote characters (Unicode 14–16 WordBreakProperty.txt). */
    private static final String WORD_BREAK_MID =
            "'.:\u00B7\u0387\u055F\u05F4\u2018\u2019\u2024\u2027\uFE13\uFE52\uFE55\uFF07\uFF0E\uFF1A";

    private BasicTokenizer() {
    }

    /** {@code " ".join(BasicTokenizer(strip_accents=False, do_split_on_punc=False).tokenize(text))}. */
    static String normalize(String text) {
        String spaced = spaceChineseChars(clean(text));
        String nfc = Normalizer.normalize(spaced, Normalizer.Form.NFC);
        StringBuilder out = new StringBuilder(nfc.length());
        int i = 0;
        while (i < nfc.length()) {
            while (i < nfc.length() && isPythonSpace(nfc.codePointAt(i))) {
                i += Character.charCount(nfc.codePointAt(i));
            }
            int start = i;
            while (i < nfc.length() && !isPythonSpace(nfc.codePointAt(i))) {
                i += Character.charCount(nfc.codePointAt(i));
            }
            if (i > start) {
                if (!out.isEmpty()) {
                    out.append(' ');
                }
                // lower-casing never yields a space, so the reference's second whitespace_tokenize changes nothing
                out.append(lower(nfc.substring(start, i)));
            }
        }
        return out.toString();
    }

    /**
     * Python's {@code str.lower()} ({@code Objects/unicodeobject.c lower_ucs4}): the full lowercase mapping of each
     * code point (İ → i̇), except that Σ becomes final ς when a cased letter precedes it and none follows it,
     * skipping case-ignorable characters both ways ({@code handle_capital_sigma}). Java's
     * {@code String.toLowerCase} decides final sigma by word boundaries instead and differs on, e.g.,
     * {@code "ΟΔΟΣ."} or {@code "AΣ6B"}.
     */
    static String lower(String word) {
        StringBuilder out = new StringBuilder(word.length());
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            if (cp < 0x80) {
                out.append((char) (cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp));
            } else if (cp == CAPITAL_SIGMA) {
                out.append(isFinalSigma(word, i) ? '\u03C2' : '\u03C3');
            } else {
                out.append(Character.toString(cp).toLowerCase(Locale.ROOT));
            }
            i += Character.charCount(cp);
        }
        return out.toString();
    }

    private static boolean isFinalSigma(String s, int at) {
        int j = at;
        int before = -1;
        while (j > 0 && before < 0) {
            int c = s.codePointBefore(j);
            j -= Character.charCount(c);
            before = isCaseIgnorable(c) ? -1 : c;
        }
        if (before < 0 || !isCased(before)) {
            return false;
        }
        for (j = at + 1; j < s.length(); j += Character.charCount(s.codePointAt(j))) {
            int c = s.codePointAt(j);
            if (!isCaseIgnorable(c)) {
                return !isCased(c);
            }
        }
        return true;
    }

    /** Unicode {@code Cased}: Lowercase, Uppercase (both with their Other_ properties) or Lt. */
    private static boolean isCased(int cp) {
        return Character.isLowerCase(cp) || Character.isUpperCase(cp)
                || Character.getType(cp) == Character.TITLECASE_LETTER;
    }

    /** Unicode {@code Case_Ignorable}: Mn, Me, Cf, Lm, Sk, or Word_Break MidLetter / MidNumLet / Single_Quote. */
    private static boolean isCaseIgnorable(int cp) {
        return switch (Character.getType(cp)) {
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.FORMAT, Character.MODIFIER_LETTER,
                 Character.MODIFIER_SYMBOL -> true;
            default -> WORD_BREAK_MID.indexOf(cp) >= 0;
        };
    }

    /** {@code BasicTokenizer._clean_text}. */
    static String clean(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
                return;
            }
            if (isWhitespace(cp)) {
                out.append(' ');
            } else {
                out.appendCodePoint(cp);
            }
        });
        return out.toString();
    }

    private static String spaceChineseChars(String text) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        text.codePoints().forEach(cp -> {
            if (isChineseChar(cp)) {
                out.append(' ').appendCodePoint(cp).append(' ');
            } else {
                out.appendCodePoint(cp);
            }
        });
        return out.toString();
    }

    /** transformers {@code _is_control}: category C*, except {@code \t \n \r}. */
    static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE,
                 Character.UNASSIGNED -> true;
            default -> false;
        };
    }

    /** transformers {@code _is_whitespace}: space, {@code \t \n \r} and category Zs. */
    static boolean isWhitespace(int cp) {
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r'
                || Character.getType(cp) == Character.SPACE_SEPARATOR;
    }

    /**
     * Python's {@code str.isspace} (used by {@code str.split}/{@code strip}): bidirectional class WS, B or S, or
     * category Zs ({@code Objects/unicodetype_db.h} is generated by that rule).
     */
    static boolean isPythonSpace(int cp) {
        byte bidi = Character.getDirectionality(cp);
        return bidi == Character.DIRECTIONALITY_WHITESPACE || bidi == Character.DIRECTIONALITY_PARAGRAPH_SEPARATOR
                || bidi == Character.DIRECTIONALITY_SEGMENT_SEPARATOR
                || Character.getType(cp) == Character.SPACE_SEPARATOR;
    }

    /** Python's {@code str.lstrip()}. */
    static String lstrip(String s) {
        int i = 0;
        while (i < s.length() && isPythonSpace(s.codePointAt(i))) {
            i += Character.charCount(s.codePointAt(i));
        }
        return s.substring(i);
    }

    /** Python's {@code str.rstrip()}. */
    static String rstrip(String s) {
        int end = s.length();
        while (end > 0 && isPythonSpace(s.codePointBefore(end))) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(0, end);
    }

    /** {@code BasicTokenizer._is_chinese_char}: exactly these CJK Unified / Compatibility Ideograph ranges. */
    static boolean isChineseChar(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF)
                || (cp >= 0x3400 && cp <= 0x4DBF)
                || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F)
                || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B820 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
