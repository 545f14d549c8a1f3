package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * diffusers models/attention_processor.py {@code Attention} with {@code AttnProcessor}: multi-head scaled
 * dot-product attention. Used as self-attention ({@code attn1}, the VAE mid-block) and cross-attention
 * ({@code attn2}, keys and values from the text).
 *
 * <p>Shapes: x [B, T, C] (or [B, C, H, W] for the VAE, which attends over the H·W positions with a GroupNorm
 * first and a residual after), context [B, S, Cc] or null for self-attention; N heads of D = inner/N channels.
 *
 * <p>Hook points: this path (the output, after {@code to_out}), {@code path:probs} — softmax(Q·Kᵀ·D^-½) as
 * [B, N, T, S], with query t the row-major position of the block's feature map and key s a text token for
 * cross-attention; a replacement changes what the values are mixed with. Cross-attention has one more,
 * {@code path:context} — the text states [B, S, Cc] this module reads its keys and values from; a replacement
 * changes this module's keys and values only (per-block prompts replace it block by block). Both are only
 * handed out when someone listens; otherwise the core never materialises all of the probabilities: it is
 * {@link ChunkedAttention} (a chunk of queries at a time) or, selected with {@link AttentionKernel}, torch's fused
 * flash attention ({@link SdpaKernel}). Looking at the probabilities changes no bit of the output with either.
 */
public final class Attention extends Module {
    private final GroupNorm groupNorm;   // VAE only
    private final Linear toQ;
    private final Linear toK;
    private final Linear toV;
    private final Linear toOut;          // to_out.0; to_out.1 is dropout
    private final int heads;
    private final float scale;
    private final boolean residual;
    private final Point probsPoint;
    private final Point contextPoint;    // cross-attention only
    private final long contextDim;

    /**
     * @param queryDim   C, width of x
     * @param contextDim Cc, width of the context (= C for self-attention)
     * @param heads      N
     * @param headDim    D
     * @param qkvBias    whether to_q/to_k/to_v have biases (the VAE's do, the U-Net's don't)
     * @param normGroups GroupNorm groups before attention with a residual after (the VAE), or 0 for none
     * @param normEps    epsilon of that GroupNorm
     * @param cross      whether it attends to a context (the U-Net's attn2): declares the {@code :context} point
     */
    public record Spec(long queryDim, long contextDim, int heads, long headDim, boolean qkvBias,
                       int normGroups, double normEps, boolean cross) {

        /** The U-Net's self-attention ({@code attn1}): no biases on q/k/v, no norm. */
        public static Spec self(long dim, int heads, long headDim) {
            return new Spec(dim, dim, heads, headDim, false, 0, 0, false);
        }

        /** The U-Net's cross-attention ({@code attn2}) to text states of width {@code contextDim}. */
        public static Spec cross(long dim, long contextDim, int heads, long headDim) {
            return new Spec(dim, contextDim, heads, headDim, false, 0, 0, true);
        }
    }

    public Attention(Weights w, String path, Spec s) {
        super(path);
        long inner = s.heads() * s.headDim();
        groupNorm = s.normGroups() > 0 ? add(new GroupNorm(w, sub("group_norm"), s.normGroups(), s.queryDim(), s.normEps())) : null;
        toQ = add(new Linear(w, sub("to_q"), s.queryDim(), inner, s.qkvBias()));
        toK = add(new Linear(w, sub("to_k"), s.contextDim(), inner, s.qkvBias()));
        toV = add(new Linear(w, sub("to_v"), s.contextDim(), inner, s.qkvBias()));
        toOut = add(new Linear(w, sub("to_out.0"), inner, s.queryDim(), true));
        heads = s.heads();
        scale = (float) (1.0 / Math.sqrt(s.headDim()));
        residual = groupNorm != null;
        probsPoint = point(":probs");
        contextPoint = s.cross() ? point(":context") : null;
        contextDim = s.contextDim();
    }

    /** Self-attention over x. */
    public NDArray forward(NDArray x) {
        return forward(x, null);
    }

    /** Attention of x [B, T, C] (or [B, C, H, W]) over context [B, S, Cc] (self-attention if null). */
    public NDArray forward(NDArray x, NDArray context) {
        NDArray out;
        try (ForwardScope scope = new ForwardScope()) {                        // frees q, k, v and the heads' mix
            out = scope.keep(attend(x, context));
        }
        return emit(x, out);
    }

    private NDArray attend(NDArray x, NDArray context) {
        Shape in = x.getShape();
        NDArray h = x;
        if (in.dimension() == 4) {
            h = x.reshape(in.get(0), in.get(1), in.get(2) * in.get(3));       // [B, C, T]
            if (groupNorm != null) {
                h = groupNorm.forward(h);
            }
            h = h.transpose(0, 2, 1);                                          // [B, T, C]
        }
        if (contextPoint != null && context != null && listening(contextPoint)) {
            context = emit(contextPoint, x, context);                          // [B, S, Cc]
        }
        NDArray kv = context == null ? h : context;
        NDArray q = heads(toQ.forward(h));                                     // [B, N, T, D]
        NDArray k = heads(toK.forward(kv));                                    // [B, N, S, D]
        NDArray v = heads(toV.forward(kv));                                    // [B, N, S, D]
        NDArray o = core(x, q, k, v);                                          // [B, N, T, D]
        Shape os = o.getShape();
        o = o.transpose(0, 2, 1, 3).reshape(os.get(0), os.get(2), os.get(1) * os.get(3)); // [B, T, N·D]
        NDArray out = toOut.forward(o);                                        // [B, T, C]
        if (in.dimension() == 4) {
            out = out.transpose(0, 2, 1).reshape(in);                          // [B, C, H, W]
        }
        if (residual) {
            out = out.add(x);
        }
        return out;
    }

    /**
     * softmax(Q·Kᵀ·scale)·V through the {@linkplain AttentionKernel#effective kernel in use}. Listened-to
     * probabilities are computed beside it and do not change the output: the explicit kernel mixes them with V in
     * the chunks it would have used anyway (bit for bit its output), and SDPA's output is SDPA's whether or not
     * anyone looks. A listener that hands back other probabilities P′ changes the output to P′·V: the explicit
     * kernel mixes P′ itself; SDPA adds (P′ − P)·V to its own output, so that P′ equal to P (a patch from the run into
     * itself) adds exact zeros and changes no bit, while any other P′ gives P′·V within float32 rounding. (A listener
     * must not write into the probabilities it is given: the module rules.) The core is checked against float64 as it
     * runs ({@link AttentionCore}), the bf16 explicit kernel's with the bf16 bound.
     */
    private NDArray core(NDArray x, NDArray q, NDArray k, NDArray v) {
        AttentionKernel kernel = AttentionKernel.effective();
        boolean bf16 = toQ.bf16();                       // the explicit kernel's two products in bf16; SDPA stays fp32
        boolean bf16Explicit = bf16 && kernel == AttentionKernel.EXPLICIT;
        if (!listening(probsPoint)) {
            return AttentionCore.attend(kernel, q, k, v, scale, null, bf16Explicit);
        }
        NDArray probs = ChunkedAttention.probs(q, k, scale, bf16);             // [B, N, T, S]
        NDArray seen = emit(probsPoint, x, probs);
        if (seen != probs && kernel == AttentionKernel.EXPLICIT) {
            return ChunkedAttention.mix(seen, v, bf16);                        // a listener's P′: P′·V
        }
        NDArray heard = bf16 && !bf16Explicit ? null : probs;                  // SDPA's fp32 fallback must not mix bf16 P
        NDArray out = AttentionCore.attend(kernel, q, k, v, scale, heard, bf16Explicit);  // bit for bit the unheard output
        return seen == probs ? out : out.add(ChunkedAttention.mixDifference(seen, probs, v, bf16)); // SDPA + (P′ − P)·V
    }

    /** [B, T, N·D] → [B, N, T, D]. */
    private NDArray heads(NDArray t) {
        Shape s = t.getShape();
        return t.reshape(s.get(0), s.get(1), heads, s.get(2) / heads).transpose(0, 2, 1, 3);
    }

    public int heads() {
        return heads;
    }

    /** Cc, the width of the context it reads. */
    public long contextDim() {
        return contextDim;
    }

    /** Whether this is cross-attention, with a {@code :context} hook point. */
    public boolean isCross() {
        return contextPoint != null;
    }
}
