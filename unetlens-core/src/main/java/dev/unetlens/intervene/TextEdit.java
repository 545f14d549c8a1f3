package dev.unetlens.intervene;

import dev.unetlens.UnetlensException;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An edit of the text encoders' input, the deep dive's by-hand edits of "Stable Diffusion Deep Dive": the input
 * embedding of a prompt's token replaced by another word's ({@code --token-swap puppy=skunk}) or by a weighted sum of
 * words' ({@code --token-mix "puppy=0.6*puppy+0.4*skunk"}), or the position embeddings scaled or dropped
 * ({@code --position-scale 0}, {@code --position-scale 0.5@1-4}). Parsed here, never evaluated; {@link TextEdits}
 * resolves words to token ids and installs the hooks.
 *
 * <p>Grammar: {@code swap := WORD '=' WORD}; {@code mix := WORD '=' term (('+' | '-') term)*},
 * {@code term := (NUMBER '*')? WORD}; {@code scale := NUMBER ('@' positions)?}, {@code positions := p | a-b (',' …)*}
 * counted from 0 (the start token is position 0). A WORD must be one token of the tokenizer ({@code puppy} is
 * {@code puppy</w>}); the edit applies wherever the prompt has that token.
 */
public sealed interface TextEdit {
    /** How the command line writes it: {@code --token-swap puppy=skunk}. */
    String describe();

    /** One word's token embedding times a weight. */
    record Term(double weight, String word) {
        public Term {
            if (!Double.isFinite(weight)) {
                throw new UnetlensException("a token-mix weight must be finite, got " + weight);
            }
            word = checkWord(word);
        }
    }

    /**
     * The token embedding of {@code word} replaced by Σ weight·embedding(term word), computed in float32 as torch
     * would; a swap is the one term {@code 1·other}, which copies the other word's row exactly.
     *
     * @param word   the prompt's word whose embedding is replaced
     * @param terms  the weighted words
     * @param option the option it came from ({@code --token-swap} or {@code --token-mix})
     */
    record TokenMix(String word, List<Term> terms, String option) implements TextEdit {
        public TokenMix {
            word = checkWord(word);
            terms = List.copyOf(terms);
            if (terms.isEmpty()) {
                throw new UnetlensException(option + " needs at least one word on the right of '='");
            }
        }

        @Override
        public String describe() {
            if (option.equals(SWAP)) {
                return SWAP + " " + word + "=" + terms.getFirst().word();
            }
            StringBuilder sb = new StringBuilder(MIX + " " + word + "=");
            for (int i = 0; i < terms.size(); i++) {
                Term t = terms.get(i);
                String w = number(Math.abs(t.weight()));
                sb.append(i == 0 ? (t.weight() < 0 ? "-" : "") : (t.weight() < 0 ? "-" : "+")).append(w).append('*').append(t.word());
            }
            return sb.toString();
        }
    }

    /**
     * The position embeddings (all, or those of {@code positions}) multiplied by {@code factor}; 0 drops them.
     *
     * @param factor    the factor
     * @param positions 0-based positions, or null for all
     */
    record PositionScale(double factor, Channels positions) implements TextEdit {
        public PositionScale {
            if (!Double.isFinite(factor)) {
                throw new UnetlensException("--position-scale needs a finite number, got " + factor);
            }
        }

        @Override
        public String describe() {
            return POSITION + " " + number(factor) + (positions == null ? "" : "@" + positions.describe());
        }
    }

    String SWAP = "--token-swap";
    String MIX = "--token-mix";
    String POSITION = "--position-scale";

    /** {@code puppy=skunk}. */
    static TokenMix swap(String text) {
        String[] lr = sides(text, SWAP, "puppy=skunk");
        return new TokenMix(lr[0], List.of(new Term(1, lr[1])), SWAP);
    }

    /** {@code puppy=0.6*puppy+0.4*skunk}. */
    static TokenMix mix(String text) {
        String[] lr = sides(text, MIX, "puppy=0.6*puppy+0.4*skunk");
        Matcher m = TERM.matcher(lr[1]);
        List<Term> terms = new ArrayList<>();
        int at = 0;
        while (at < lr[1].length()) {
            if (!m.find(at) || m.start() != at || (terms.isEmpty() ? false : m.group("sign") == null)) {
                throw new UnetlensException(MIX + " '" + text + "': cannot read '" + lr[1].substring(at).strip()
                        + "'; write WORD=K*WORD+K*WORD, like puppy=0.6*puppy+0.4*skunk");
            }
            double w = m.group("k") == null ? 1 : parseNumber(m.group("k"), MIX, text);
            terms.add(new Term("-".equals(m.group("sign")) ? -w : w, m.group("word")));
            at = m.end();
        }
        return new TokenMix(lr[0], terms, MIX);
    }

    /** {@code 0.5} or {@code 0@1-4}. */
    static PositionScale positionScale(String text) {
        String s = text.strip();
        int at = s.indexOf('@');
        double k = parseNumber(at < 0 ? s : s.substring(0, at), POSITION, text);
        Channels positions = null;
        if (at >= 0) {
            try {
                positions = Channels.parse(s.substring(at + 1));
            } catch (UnetlensException e) {
                throw new UnetlensException(POSITION + " '" + text + "': positions are 0-based token positions like"
                        + " 0.5@1-4,7 (" + e.getMessage() + ")");
            }
        }
        return new PositionScale(k, positions);
    }

    Pattern TERM = Pattern.compile("\\s*(?<sign>[+-])?\\s*(?:(?<k>[0-9]*\\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\\s*\\*)?\\s*"
            + "(?<word>[^\\s+*=@-]+)\\s*");

    private static String[] sides(String text, String option, String example) {
        int eq = text.indexOf('=');
        if (eq < 0 || text.indexOf('=', eq + 1) >= 0) {
            throw new UnetlensException(option + " '" + text + "': write WORD=…, like " + example);
        }
        return new String[] {text.substring(0, eq).strip(), text.substring(eq + 1).strip()};
    }

    private static String checkWord(String word) {
        if (word == null || word.isBlank() || word.strip().contains(" ")) {
            throw new UnetlensException("a text edit names one word (one token), got '" + word + "'");
        }
        return word.strip();
    }

    private static double parseNumber(String s, String option, String text) {
        try {
            double v = Double.parseDouble(s.strip());
            if (!Double.isFinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new UnetlensException(option + " '" + text + "': '" + s.strip() + "' is not a finite number");
        }
    }

    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
    }
}
