package dev.unetlens.tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * One prompt as the text encoder takes it: {@code tokenizer(text, padding="max_length", max_length=77,
 * truncation=True)}. Immutable: the arrays are copied in and out.
 *
 * @param inputIds      [T] bos, the first T − 2 content ids at most, eos, then the pad id
 * @param attentionMask [T] 1 for bos..eos, 0 for padding
 * @param length        the tokens before padding, bos and eos included (2..T)
 * @param tokenTexts    [T] a readable label per position, for attention-map columns: the token's UTF-8 text
 *                      without {@code </w>} (see {@link ClipTokenizer#tokenText}), {@code <|startoftext|>} /
 *                      {@code <|endoftext|>} for the specials, {@link #PADDING} after eos
 */
public record TokenizedPrompt(long[] inputIds, long[] attentionMask, int length, List<String> tokenTexts) {
    /** The label of a padding position (whatever the pad id is). */
    public static final String PADDING = "<pad>";

    public TokenizedPrompt {
        inputIds = inputIds.clone();
        attentionMask = attentionMask.clone();
        tokenTexts = List.copyOf(tokenTexts);
        if (attentionMask.length != inputIds.length || tokenTexts.size() != inputIds.length) {
            throw new IllegalArgumentException("inputIds, attentionMask and tokenTexts need one entry per position");
        }
        if (length < 2 || length > inputIds.length) {
            throw new IllegalArgumentException("length must be in [2, " + inputIds.length + "], got " + length);
        }
    }

    @Override
    public long[] inputIds() {
        return inputIds.clone();
    }

    @Override
    public long[] attentionMask() {
        return attentionMask.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenizedPrompt p && length == p.length && Arrays.equals(inputIds, p.inputIds)
                && Arrays.equals(attentionMask, p.attentionMask) && tokenTexts.equals(p.tokenTexts);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(inputIds) + tokenTexts.hashCode();
    }

    @Override
    public String toString() {
        return "TokenizedPrompt[length=" + length + ", tokens=" + tokenTexts.subList(0, length) + "]";
    }
}
