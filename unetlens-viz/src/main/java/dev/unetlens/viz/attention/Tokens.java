package dev.unetlens.viz.attention;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Token labels as the tokenizer writes them ({@code TokenizedPrompt.tokenTexts()}): the specials
 * {@code <|startoftext|>} and {@code <|endoftext|>}, {@code <pad>} after the end, the rest the tokens' text.
 */
public final class Tokens {
    public static final String START = "<|startoftext|>";
    public static final String END = "<|endoftext|>";
    public static final String PAD = "<pad>";

    private Tokens() {
    }

    /** Whether a label is a special token (start, end, padding). */
    public static boolean isSpecial(String label) {
        return label.equals(START) || label.equals(END) || label.equals(PAD);
    }

    /** What a picture shows: "[SOT]", "[EOT]", "[pad]", else the text (a "</w>" suffix dropped). */
    public static String display(String label) {
        return switch (label) {
            case START -> "[SOT]";
            case END -> "[EOT]";
            case PAD -> "[pad]";
            default -> label.endsWith("</w>") ? label.substring(0, label.length() - 4) : label;
        };
    }

    /**
     * The prompt's length as DAAM counts it (the tokens through the first end token, start and end included);
     * all labels if there is no end token.
     */
    public static int promptLength(List<String> labels) {
        int end = labels.indexOf(END);
        return end < 0 ? labels.size() : end + 1;
    }

    /** Indices 0 … promptLength − 1: the default column set of attention pictures. */
    public static List<Integer> promptIndices(List<String> labels) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < promptLength(labels); i++) {
            out.add(i);
        }
        return out;
    }

    /**
     * Every index of {@code labels} at which the token sequence {@code word} occurs, all tokens of each
     * occurrence: DAAM's {@code compute_token_merge_indices} (case-insensitive, "</w>" ignored). The caller
     * tokenizes the word with the same tokenizer. Empty when the word does not occur.
     */
    public static List<Integer> indicesOf(List<String> labels, List<String> word) {
        List<String> l = labels.stream().map(Tokens::plain).toList();
        List<String> w = word.stream().map(Tokens::plain).toList();
        List<Integer> out = new ArrayList<>();
        if (w.isEmpty()) {
            return out;
        }
        for (int i = 0; i + w.size() <= l.size(); i++) {
            if (l.subList(i, i + w.size()).equals(w)) {
                for (int k = 0; k < w.size(); k++) {
                    out.add(i + k);
                }
            }
        }
        return out;
    }

    private static String plain(String token) {
        String t = token.toLowerCase(Locale.ROOT);
        return t.endsWith("</w>") ? t.substring(0, t.length() - 4) : t;
    }
}
