package dev.unetlens.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-pair encoding of one pre-token, as transformers {@code CLIPTokenizer.bpe}: the token's characters are the
 * initial symbols, the last one with {@code </w>} appended; then, while some adjacent pair has a merge rule, the
 * pair of lowest rank is merged at every non-overlapping occurrence, left to right.
 *
 * <p>Results are cached per token in a bounded map (cleared when full), as the reference's unbounded dict; the
 * two special-token strings are pre-seeded there and stay unsplit without {@code </w>}. Thread-safe.
 */
final class Bpe {
    static final String WORD_END = "</w>";
    private static final int CACHE_LIMIT = 50_000;

    private final Map<String, Integer> ranks;
    private final Map<String, List<String>> cache = new ConcurrentHashMap<>();

    Bpe(List<ClipVocab.Merge> merges) {
        Map<String, Integer> r = new HashMap<>(merges.size() * 2);
        for (int i = 0; i < merges.size(); i++) {
            r.put(key(merges.get(i).first(), merges.get(i).second()), i);   // a repeated pair keeps its last rank
        }
        this.ranks = Map.copyOf(r);
    }

    /** Byte-level symbols never contain a space, so {@code "first second"} (a merges.txt line) is a unique key. */
    private static String key(String first, String second) {
        return first + ' ' + second;
    }

    /** The BPE symbols of {@code token}, a non-empty string of {@link ByteLevel} characters. */
    List<String> encode(String token) {
        if (token.equals(ClipVocab.BOS) || token.equals(ClipVocab.EOS)) {
            return List.of(token);
        }
        List<String> cached = cache.get(token);
        if (cached == null) {
            cached = merge(token);
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear();
            }
            cache.put(token, cached);
        }
        return cached;
    }

    private List<String> merge(String token) {
        List<String> word = new ArrayList<>(token.length());
        for (int i = 0; i < token.length() - 1; i++) {
            word.add(String.valueOf(token.charAt(i)));
        }
        word.add(token.charAt(token.length() - 1) + WORD_END);
        while (word.size() > 1) {
            int best = Integer.MAX_VALUE;
            String first = null;
            String second = null;
            for (int i = 0; i < word.size() - 1; i++) {
                Integer rank = ranks.get(key(word.get(i), word.get(i + 1)));
                if (rank != null && rank < best) {
                    best = rank;
                    first = word.get(i);
                    second = word.get(i + 1);
                }
            }
            if (first == null) {
                break;
            }
            List<String> merged = new ArrayList<>(word.size());
            for (int i = 0; i < word.size(); i++) {
                if (i < word.size() - 1 && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(word.get(i));
                }
            }
            word = merged;
        }
        return List.copyOf(word);
    }
}
