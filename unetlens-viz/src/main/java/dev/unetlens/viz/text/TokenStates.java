package dev.unetlens.viz.text;

import dev.unetlens.viz.attention.Tokens;

import java.util.List;

/**
 * Hidden states of a text encoder for one sequence: L states of T tokens of width D, e.g. the input embeddings and
 * every layer's output ({@code hidden_states}), or one layer's output from a dump.
 *
 * @param tokens token labels as the tokenizer writes them ({@code <|startoftext|>}, {@code <pad>} …), T of them
 * @param states state names ({@code embeddings}, {@code layer 1} …), L of them
 * @param values [L][T·D] row-major per state (token t's vector at [t·D, (t+1)·D))
 * @param width  D
 */
public record TokenStates(List<String> tokens, List<String> states, float[][] values, int width) {
    public TokenStates {
        tokens = List.copyOf(tokens);
        states = List.copyOf(states);
        if (values.length != states.size()) {
            throw new IllegalArgumentException(states.size() + " state names for " + values.length + " states");
        }
        for (float[] v : values) {
            if (v.length != (long) tokens.size() * width) {
                throw new IllegalArgumentException("a state of " + tokens.size() + " tokens of width " + width
                        + " needs " + (long) tokens.size() * width + " values, got " + v.length);
            }
        }
    }

    /** The tokens through the first end token, start and end included: what pictures show by default. */
    public List<Integer> promptIndices() {
        return Tokens.promptIndices(tokens);
    }

    /** ‖h‖₂ of token t at state l. */
    public double norm(int l, int t) {
        double s = 0;
        for (int d = 0; d < width; d++) {
            double x = values[l][t * width + d];
            s += x * x;
        }
        return Math.sqrt(s);
    }

    /** cos(h_a, h_b) at state l, in [−1, 1]; 0 where either vector is zero. */
    public double cosine(int l, int a, int b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int d = 0; d < width; d++) {
            double x = values[l][a * width + d];
            double y = values[l][b * width + d];
            dot += x * y;
            na += x * x;
            nb += y * y;
        }
        double n = Math.sqrt(na) * Math.sqrt(nb);
        return n > 0 ? Math.max(-1, Math.min(1, dot / n)) : 0;
    }

    /** The display text of token t with its position: "5 puppy". */
    String label(int t) {
        return t + " " + Tokens.display(tokens.get(t));
    }
}
