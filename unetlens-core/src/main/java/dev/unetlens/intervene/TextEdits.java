package dev.unetlens.intervene;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.UnetlensException;
import dev.unetlens.hook.Component;
import dev.unetlens.hook.Hook;
import dev.unetlens.hook.HookContext;
import dev.unetlens.hook.ModelScope;
import dev.unetlens.hook.ModulePath;
import dev.unetlens.model.ForwardContext.Branch;
import dev.unetlens.pipeline.PromptEncoder;
import dev.unetlens.tokenizer.ClipTokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * {@link TextEdit}s resolved for a model's text encoders and a run's prompts: each word checked to be one token of
 * each tokenizer and found in the prompts, each replacement vector computed from the token embedding table, position
 * selections checked against the encoder's positions — so a mistake fails in one line before anything runs.
 * {@link #install} adds the hooks: at {@code text_model.embeddings.token_embedding} (ids [B, T] → [B, T, D]) the rows
 * of the word's positions become the vector, at {@code text_model.embeddings.position_embedding} ([1, T, D]) the
 * selected positions are scaled; the embeddings module then adds the two as without edits, so a swap gives bit for bit
 * the input embeddings of the prompt with the other word in its place.
 *
 * <p>The edits change the prompts' encodings: forwards whose rows are all unconditional (the negative prompts of
 * classifier-free guidance) are left alone.
 */
public final class TextEdits {
    static final String TOKEN_POINT = "text_model.embeddings.token_embedding";
    static final String POSITION_POINT = "text_model.embeddings.position_embedding";

    private final List<Resolved> resolved;

    /**
     * One edit on one text encoder.
     *
     * @param edit      the edit
     * @param component the text encoder
     * @param token     the replaced token's text ({@code puppy</w>}), or null for a position edit
     * @param id        its id, or −1
     * @param terms     each term's token text and id, or empty
     * @param vector    the replacement embedding [D], or null
     * @param found     "prompt:position" of each replaced token in the prompts this encoder reads
     */
    public record Resolved(TextEdit edit, Component component, String token, long id, List<ResolvedTerm> terms,
                           float[] vector, List<String> found) {
    }

    /** A mix term resolved: weight, token text, id. */
    public record ResolvedTerm(double weight, String token, long id) {
    }

    private TextEdits(List<Resolved> resolved) {
        this.resolved = List.copyOf(resolved);
    }

    public static TextEdits none() {
        return new TextEdits(List.of());
    }

    /**
     * Resolves {@code edits} for the text encoders of {@code prompts}, which read {@code texts.get(i)} (encoder i;
     * SDXL's second encoder its own prompts).
     */
    public static TextEdits resolve(PromptEncoder prompts, List<List<String>> texts, List<TextEdit> edits) {
        List<Resolved> out = new ArrayList<>();
        List<PromptEncoder.TextStack> stacks = prompts.stacks();
        for (TextEdit e : edits) {
            int foundAnywhere = 0;
            for (int s = 0; s < stacks.size(); s++) {
                Component c = s == 0 ? Component.TEXT_ENCODER : Component.TEXT_ENCODER_2;
                Resolved r = resolve(e, c, stacks.get(s), texts.get(s));
                foundAnywhere += r.found().size();
                out.add(r);
            }
            if (e instanceof TextEdit.TokenMix mix && foundAnywhere == 0) {
                throw new UnetlensException(e.describe() + ": the prompt has no '" + mix.word() + "' token; the tokens"
                        + " are " + String.join(" ", stacks.getFirst().tokenizer().bpeTokens(texts.getFirst().getFirst())));
            }
        }
        return new TextEdits(out);
    }

    private static Resolved resolve(TextEdit e, Component c, PromptEncoder.TextStack stack, List<String> texts) {
        ClipTokenizer tok = stack.tokenizer();
        return switch (e) {
            case TextEdit.PositionScale p -> {
                if (p.positions() != null) {
                    p.positions().select(tok.modelMaxLength(), "the text encoder's " + tok.modelMaxLength() + " positions");
                }
                yield new Resolved(e, c, null, -1, List.of(), null, List.of());
            }
            case TextEdit.TokenMix mix -> {
                long id = oneToken(tok, mix.word(), e);
                List<ResolvedTerm> terms = new ArrayList<>();
                for (TextEdit.Term t : mix.terms()) {
                    long tid = oneToken(tok, t.word(), e);
                    terms.add(new ResolvedTerm(t.weight(), tok.bpeTokens(t.word()).getFirst(), tid));
                }
                yield new Resolved(e, c, tok.bpeTokens(mix.word()).getFirst(), id, terms,
                        vector(stack, terms), occurrences(tok, texts, id));
            }
        };
    }

    /** The one id of {@code word}; one line naming its pieces if it is several tokens or none. */
    private static long oneToken(ClipTokenizer tok, String word, TextEdit e) {
        long[] ids = tok.idsUntruncated(word);
        if (ids.length != 3) {
            throw new UnetlensException(e.describe() + ": '" + word + "' is " + (ids.length - 2) + " tokens ("
                    + String.join(" ", tok.bpeTokens(word)) + "); a text edit replaces one token by one embedding,"
                    + " so name single-token words");
        }
        return ids[1];
    }

    /** Σ weight·row, in float32 as torch computes {@code w1*e1 + w2*e2}; one term of weight 1 is the row itself. */
    private static float[] vector(PromptEncoder.TextStack stack, List<ResolvedTerm> terms) {
        NDArray table = stack.encoder().tokenEmbeddingTable();
        float[] acc = null;
        for (ResolvedTerm t : terms) {
            float[] row;
            try (NDArray r = table.get(t.id())) {
                row = r.toFloatArray();
            }
            float w = (float) t.weight();
            if (acc == null) {
                acc = new float[row.length];
                for (int d = 0; d < row.length; d++) {
                    acc[d] = terms.size() == 1 && t.weight() == 1 ? row[d] : w * row[d];
                }
            } else {
                for (int d = 0; d < row.length; d++) {
                    acc[d] += w * row[d];
                }
            }
        }
        return acc;
    }

    private static List<String> occurrences(ClipTokenizer tok, List<String> texts, long id) {
        List<String> out = new ArrayList<>();
        for (int p = 0; p < texts.size(); p++) {
            long[] ids = tok.encode(texts.get(p)).inputIds();
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] == id) {
                    out.add(p + ":" + i);
                }
            }
        }
        return out;
    }

    public List<Resolved> resolved() {
        return resolved;
    }

    public boolean isEmpty() {
        return resolved.isEmpty();
    }

    /** The edits as the command line writes them, once each (not per encoder). */
    public List<String> descriptions() {
        return resolved.stream().map(r -> r.edit().describe()).distinct().toList();
    }

    /** Adds the hooks to the text encoders' scopes, in edit order. */
    public void install(ModelScope scope) {
        for (Resolved r : resolved) {
            if (r.edit() instanceof TextEdit.PositionScale p) {
                scope.add(new ModulePath(r.component(), POSITION_POINT), positionHook(p));
            } else {
                scope.add(new ModulePath(r.component(), TOKEN_POINT), tokenHook(r.id(), r.vector()));
            }
        }
    }

    /** Whether a forward encodes only negative prompts (CFG's unconditional side). */
    private static boolean negativeOnly(HookContext ctx) {
        return !ctx.rows().isEmpty() && ctx.rows().stream().allMatch(l -> l.branch() == Branch.UNCOND);
    }

    /** x [B, T, D], ids [B, T]: the rows of {@code id} on conditional rows become {@code vector}. */
    private static Hook tokenHook(long id, float[] vector) {
        return (x, ctx) -> {
            if (negativeOnly(ctx)) {
                return x;
            }
            long[] s = x.getShape().getShape();
            long[] ids = ctx.input().toLongArray();
            boolean[] sel = new boolean[ids.length];
            boolean any = false;
            for (int i = 0; i < ids.length; i++) {
                int row = (int) (i / s[1]);
                boolean negative = ctx.rows().size() == s[0] && ctx.rows().get(row).branch() == Branch.UNCOND;
                sel[i] = ids[i] == id && !negative;
                any |= sel[i];
            }
            if (!any) {
                return x;
            }
            NDManager m = x.getManager();
            NDArray mask = m.create(sel, new Shape(s[0], s[1], 1)).broadcast(x.getShape());   // DJL's where does not broadcast
            NDArray v = m.create(vector, new Shape(1, 1, s[2])).broadcast(x.getShape());
            return NDArrays.where(mask, v, x);
        };
    }

    /** x [1, T, D]: the selected positions times the factor. */
    private static Hook positionHook(TextEdit.PositionScale p) {
        return (x, ctx) -> {
            if (negativeOnly(ctx)) {
                return x;
            }
            NDArray y = x.mul((float) p.factor());
            if (p.positions() == null) {
                return y;
            }
            long[] s = x.getShape().getShape();
            boolean[] sel = p.positions().select((int) s[1], "the text encoder's positions");
            NDArray mask = x.getManager().create(sel, new Shape(1, s[1], 1)).broadcast(x.getShape());
            return NDArrays.where(mask, y, x);
        };
    }
}
