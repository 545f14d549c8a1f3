package dev.unetlens.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.model.ForwardContext;
import dev.unetlens.model.ForwardContext.Branch;
import dev.unetlens.model.ForwardContext.RowLabel;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.clip.ClipTextOutput;
import dev.unetlens.tokenizer.ClipTokenizer;
import dev.unetlens.tokenizer.TokenizedPrompt;

import java.util.ArrayList;
import java.util.List;

/**
 * Prompts → U-Net conditioning, as diffusers' {@code encode_prompt} of the SD and SDXL pipelines.
 *
 * <ul>
 *   <li>SD 1.x/2.x: the encoder's last hidden state (after the final LayerNorm); with {@code clipSkip = k > 0}
 *       the final LayerNorm applied to {@code hidden_states[-(k+1)]}.</li>
 *   <li>SDXL: the penultimate hidden state ({@code hidden_states[-(k+2)]}, no final LayerNorm) of each encoder,
 *       concatenated along the channels (encoder 1 first), and encoder 2's {@code text_embeds} as the pooled
 *       embeds; encoder 2 reads {@code prompt_2} when given, else the prompt.</li>
 * </ul>
 * Prompts longer than the encoder's 77 tokens are truncated, as in diffusers; {@link #truncated} says what was cut.
 */
public final class PromptEncoder {
    /** A tokenizer and the text encoder that reads its ids. */
    public record TextStack(ClipTokenizer tokenizer, ClipTextModel encoder) {
        /** The encoder on ids [B, T], its hooks seeing {@code context}. */
        ClipTextOutput forward(NDArray ids, ForwardContext context) {
            return encoder.hooks().during(context, () -> encoder.forward(ids));
        }
    }

    private final ModelFamily family;
    private final List<TextStack> stacks;

    public PromptEncoder(ModelFamily family, List<TextStack> stacks) {
        if (stacks.isEmpty() || (family == ModelFamily.SDXL) != (stacks.size() == 2)) {
            throw new IllegalArgumentException(family + " needs " + (family == ModelFamily.SDXL ? 2 : 1) + " text encoders");
        }
        this.family = family;
        this.stacks = List.copyOf(stacks);
    }

    public ModelFamily family() {
        return family;
    }

    /** The tokenizers and text encoders: SDXL's {@code text_encoder} and {@code text_encoder_2}, else one. */
    public List<TextStack> stacks() {
        return stacks;
    }

    /** The first (or only) tokenizer: the one whose tokens label cross-attention columns. */
    public ClipTokenizer tokenizer() {
        return stacks.getFirst().tokenizer();
    }

    /**
     * Encodes a batch of prompts. {@code prompts2} (SDXL's second encoder) may be null or hold nulls, meaning
     * "the same as the prompt". Hooks on the text encoders see the rows as conditional ones.
     */
    public Conditioning encode(NDManager m, List<String> prompts, List<String> prompts2, int clipSkip) {
        return encode(m, prompts, prompts2, clipSkip, Branch.COND);
    }

    /**
     * {@link #encode(NDManager, List, List, int)}, the rows labelled for hooks on the text encoders as the
     * {@code branch} of the CFG batch (row i: prompt i).
     */
    public Conditioning encode(NDManager m, List<String> prompts, List<String> prompts2, int clipSkip, Branch branch) {
        List<RowLabel> rows = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            rows.add(new RowLabel(branch, i, 0));
        }
        ForwardContext context = new ForwardContext(-1, Double.NaN, rows);
        if (family != ModelFamily.SDXL) {
            TextStack s = stacks.getFirst();
            ClipTextOutput out = s.forward(ids(m, s.tokenizer(), prompts), context);
            NDArray embeds = clipSkip <= 0 ? out.lastHiddenState()
                    : s.encoder().finalLayerNorm(out.hiddenStateFromEnd(clipSkip + 1));
            return new Conditioning(embeds, null);
        }
        List<String> second = textsRead(prompts, prompts2).get(1);
        ClipTextOutput o1 = stacks.get(0).forward(ids(m, stacks.get(0).tokenizer(), prompts), context);
        ClipTextOutput o2 = stacks.get(1).forward(ids(m, stacks.get(1).tokenizer(), second), context);
        NDArray h = o1.hiddenStateFromEnd(clipSkip + 2).concat(o2.hiddenStateFromEnd(clipSkip + 2), -1);
        return new Conditioning(h, o2.textEmbeds());
    }

    /**
     * The texts each encoder reads, encoder by encoder: the prompts; SDXL's second encoder {@code prompts2[i]} where
     * given and not empty, else prompt i.
     */
    public List<List<String>> textsRead(List<String> prompts, List<String> prompts2) {
        if (family != ModelFamily.SDXL) {
            return List.of(List.copyOf(prompts));
        }
        List<String> second = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            String p2 = prompts2 == null || prompts2.size() <= i ? null : prompts2.get(i);
            second.add(p2 == null || p2.isEmpty() ? prompts.get(i) : p2);
        }
        return List.of(List.copyOf(prompts), List.copyOf(second));
    }

    /**
     * The negative (unconditional) side of the CFG batch, by diffusers' rules: with no negative prompt, SDXL models
     * whose {@code force_zeros_for_empty_prompt} is set get all-zero embeds and pooled embeds, every other model
     * encodes {@code ""}; any string, {@code ""} included, is encoded like a prompt, {@code negative_prompt_2}
     * defaulting to the negative prompt. diffusers applies no clip skip to the negative side.
     *
     * @param negatives  one per prompt, or null for "no negative prompt"
     * @param negatives2 SDXL's second-encoder negatives, or null
     */
    public Conditioning negative(NDManager m, List<String> negatives, List<String> negatives2, Conditioning positive,
                                 boolean forceZerosForEmptyPrompt) {
        if (negatives == null && family == ModelFamily.SDXL && forceZerosForEmptyPrompt) {
            return positive.zeros();
        }
        List<String> neg = negatives != null ? negatives
                : java.util.Collections.nCopies((int) positive.batch(), "");
        List<String> neg2 = negatives2;
        if (family == ModelFamily.SDXL && neg2 != null) {
            neg2 = new ArrayList<>();
            for (int i = 0; i < neg.size(); i++) {
                String n2 = negatives2.size() > i ? negatives2.get(i) : null;
                neg2.add(n2 == null || n2.isEmpty() ? neg.get(i) : n2);
            }
        }
        return encode(m, neg, neg2, 0, Branch.UNCOND);
    }

    /** Token ids [B, 77] of {@code prompts} with this tokenizer. */
    static NDArray ids(NDManager m, ClipTokenizer tok, List<String> prompts) {
        int t = tok.modelMaxLength();
        long[] ids = new long[prompts.size() * t];
        for (int i = 0; i < prompts.size(); i++) {
            System.arraycopy(tok.encode(prompts.get(i)).inputIds(), 0, ids, i * t, t);
        }
        return m.create(ids, new Shape(prompts.size(), t));
    }

    /** For each prompt that is longer than 77 tokens, the text the encoder will not see; empty if none. */
    public List<String> truncated(List<String> prompts) {
        ClipTokenizer tok = tokenizer();
        List<String> out = new ArrayList<>();
        for (String p : prompts) {
            long[] all = tok.idsUntruncated(p);
            int keep = tok.modelMaxLength() - 1;                 // bos + 75 tokens; the eos is re-added
            if (all.length > tok.modelMaxLength()) {
                long[] cut = java.util.Arrays.copyOfRange(all, keep, all.length - 1);
                out.add(tok.decode(cut));
            }
        }
        return out;
    }

    /** The tokenized form of a prompt (for labelling attention columns). */
    public TokenizedPrompt tokens(String prompt) {
        return tokenizer().encode(prompt);
    }
}
