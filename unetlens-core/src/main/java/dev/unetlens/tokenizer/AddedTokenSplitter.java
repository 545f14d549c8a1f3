package dev.unetlens.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts a raw prompt at its added tokens, the first stage of transformers {@code PreTrainedTokenizer.tokenize}:
 * {@code tokens_trie.split(text)}, then each added token's {@code lstrip} / {@code rstrip} / {@code single_word}
 * rule applied to its neighbours in one left-to-right pass, exactly as written there (a piece that strips down
 * to an added token's text becomes that token).
 *
 * <p>The split takes, at each position from the left, the longest added token that starts there. This is what
 * {@code Trie.split} computes whenever no added token occurs inside another one, as for CLIP's
 * {@code <|startoftext|>}, {@code <|endoftext|>} and {@code !}.
 */
final class AddedTokenSplitter {
    /** A piece of the prompt: an added token ({@code id >= 0}) or text for BPE ({@code id == -1}). */
    record Piece(String text, int id) {
        boolean added() {
            return id >= 0;
        }
    }

    private final Map<String, AddedToken> tokens;
    private final Map<String, Integer> ids;
    private final Map<Integer, String> contents;
    private final List<String> longestFirst;

    /** {@code tokens} and {@code ids} are keyed by the token's content. */
    AddedTokenSplitter(Map<String, AddedToken> tokens, Map<String, Integer> ids) {
        this.tokens = Map.copyOf(tokens);
        this.ids = Map.copyOf(ids);
        Map<Integer, String> byId = new HashMap<>();
        ids.forEach((content, id) -> byId.putIfAbsent(id, content));
        this.contents = Map.copyOf(byId);
        this.longestFirst = tokens.keySet().stream()
                .sorted(Comparator.comparingInt(String::length).reversed()).toList();
    }

    /** The largest id of an added token, -1 when there is none. */
    int maxId() {
        return contents.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
    }

    /** The id of an added token's content, or null. */
    Integer id(String content) {
        return ids.get(content);
    }

    /** The content of an added token's id, or null. */
    String content(int id) {
        return contents.get(id);
    }

    List<Piece> split(String text) {
        List<String> parts = cut(text);
        for (int i = 0; i < parts.size(); i++) {
            AddedToken t = tokens.get(parts.get(i));
            if (t == null) {
                continue;
            }
            String token = parts.get(i);
            String left = i > 0 ? parts.get(i - 1) : "";
            String right = i < parts.size() - 1 ? parts.get(i + 1) : "";
            if (t.rstrip() && !right.isEmpty()) {
                parts.set(i + 1, BasicTokenizer.lstrip(right));
            }
            if (t.lstrip() && !left.isEmpty()) {
                parts.set(i - 1, BasicTokenizer.rstrip(left));
            }
            if (t.singleWord() && !left.isEmpty() && !left.endsWith(" ")) {
                parts.set(i - 1, parts.get(i - 1) + token);
                parts.set(i, "");
            } else if (t.singleWord() && !right.isEmpty() && !right.startsWith(" ")) {
                parts.set(i + 1, token + parts.get(i + 1));
                parts.set(i, "");
            }
        }
        List<Piece> pieces = new ArrayList<>(parts.size());
        for (String p : parts) {
            if (!p.isEmpty()) {
                pieces.add(new Piece(p, ids.getOrDefault(p, -1)));
            }
        }
        return pieces;
    }

    /** Leftmost-longest cut: added tokens and the text between them, in order. */
    private List<String> cut(String text) {
        List<String> parts = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            String match = null;
            for (String t : longestFirst) {
                if (text.startsWith(t, i)) {
                    match = t;
                    break;
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            if (i > start) {
                parts.add(text.substring(start, i));
            }
            parts.add(match);
            i += match.length();
            start = i;
        }
        if (start < text.length()) {
            parts.add(text.substring(start));
        }
        return parts;
    }

}
