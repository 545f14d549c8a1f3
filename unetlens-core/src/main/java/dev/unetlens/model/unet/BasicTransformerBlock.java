package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.Attention;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.LayerNorm;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;

/**
 * diffusers attention.py {@code BasicTransformerBlock} as the SD U-Nets use it (norm_type "layer_norm", GEGLU,
 * no biases on q/k/v, LayerNorm eps 1e-5), pre-norm with three residuals:
 * <pre>
 *   h = attn1(norm1(h)) + h            self-attention over the T positions
 *   h = attn2(norm2(h), context) + h   cross-attention to the S text tokens
 *   h = ff(norm3(h)) + h
 * </pre>
 * x [B, T, I], context [B, S, Dc] → [B, T, I]; hook: this path (the tokens, before the Transformer2DModel's
 * proj_out; golden README §12). Intermediates are freed when the block returns.
 */
public final class BasicTransformerBlock extends Module {
    private static final double NORM_EPS = 1e-5;
    private final LayerNorm norm1;
    private final Attention attn1;
    private final LayerNorm norm2;
    private final Attention attn2;
    private final LayerNorm norm3;
    private final FeedForward ff;
    private final long dim;

    /**
     * @param dim      I = N·D, the token width
     * @param heads    N
     * @param headDim  D
     * @param crossDim Dc, width of the text states
     */
    public BasicTransformerBlock(Weights w, String path, long dim, int heads, long headDim, long crossDim) {
        super(path);
        this.dim = dim;
        norm1 = add(new LayerNorm(w, sub("norm1"), dim, NORM_EPS));
        attn1 = add(new Attention(w, sub("attn1"), Attention.Spec.self(dim, heads, headDim)));
        norm2 = add(new LayerNorm(w, sub("norm2"), dim, NORM_EPS));
        attn2 = add(new Attention(w, sub("attn2"), Attention.Spec.cross(dim, crossDim, heads, headDim)));
        norm3 = add(new LayerNorm(w, sub("norm3"), dim, NORM_EPS));
        ff = add(new FeedForward(w, sub("ff"), dim));
    }

    public NDArray forward(NDArray x, NDArray context) {
        NDArray h;
        try (ForwardScope scope = new ForwardScope()) {
            h = attn1.forward(norm1.forward(x)).add(x);                          // [B, T, I]
            h = attn2.forward(norm2.forward(h), context).add(h);                 // [B, T, I]
            h = scope.keep(ff.forward(norm3.forward(h)).add(h));                 // [B, T, I]
        }
        return emit(x, h);
    }

    long[] shapes(ShapeSink s, long[] x) {
        s.put(norm1, x);
        s.attention(attn1, x, x[1], dim);
        s.put(norm2, x);
        s.attention(attn2, x, s.textTokens, dim);
        s.put(norm3, x);
        ff.shapes(s, x);
        return s.put(this, x);
    }
}
