package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.ForwardScope;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.model.Conv2d;
import dev.unetlens.model.GroupNorm;
import dev.unetlens.model.Linear;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * diffusers transformers/transformer_2d.py {@code Transformer2DModel} over a continuous feature map:
 * <pre>
 *   h = norm(x)                                   GroupNorm, eps 1e-6
 *   h = proj_in(h) → tokens                       1×1 conv then (B, H·W, I)  — or, use_linear_projection:
 *                                                 tokens (B, H·W, C) then Linear C → I (SD 2.x, XL)
 *   h = transformer_blocks.k(h, context)          k = 0 … depth−1
 *   h = proj_out(h) ← tokens, + x                 the mirror image of proj_in, then the residual
 * </pre>
 * I = N·⌊C/N⌋ (= C unless N does not divide C). x [B, C, H, W], context [B, S, Dc] → [B, C, H, W]; hook: this path
 * (after the residual). A replacement of {@code transformer_blocks.k} (tokens [B, T, I]) is what block k+1, or
 * proj_out, reads; the residual still adds the unchanged input x.
 */
public final class Transformer2DModel extends Module {
    private static final double NORM_EPS = 1e-6;
    private final GroupNorm norm;
    private final UnaryOperator<NDArray> projIn;   // Conv2d 1×1 or Linear
    private final List<BasicTransformerBlock> transformerBlocks = new ArrayList<>();
    private final UnaryOperator<NDArray> projOut;  // Conv2d 1×1 or Linear
    private final boolean linear;
    private final long inner;

    /**
     * @param channels C
     * @param depth    number of transformer blocks
     * @param a        heads, cross-attention width, groups, projection kind of the enclosing block
     */
    public Transformer2DModel(Weights w, String path, long channels, int depth, BlockArgs a) {
        super(path);
        long headDim = channels / a.heads();
        inner = a.heads() * headDim;
        linear = a.linearProjection();
        norm = add(new GroupNorm(w, sub("norm"), a.groups(), channels, NORM_EPS));
        projIn = linear ? add(new Linear(w, sub("proj_in"), channels, inner, true))::forward
                : add(new Conv2d(w, sub("proj_in"), channels, inner, 1, 1, 0))::forward;
        for (int k = 0; k < depth; k++) {
            transformerBlocks.add(add(new BasicTransformerBlock(w, sub("transformer_blocks." + k), inner, a.heads(),
                    headDim, a.crossAttentionDim())));
        }
        projOut = linear ? add(new Linear(w, sub("proj_out"), inner, channels, true))::forward
                : add(new Conv2d(w, sub("proj_out"), inner, channels, 1, 1, 0))::forward;
    }

    public NDArray forward(NDArray x, NDArray context) {
        Shape s = x.getShape();                                                  // [B, C, H, W]
        long b = s.get(0);
        long c = s.get(1);
        long hw = s.get(2) * s.get(3);
        NDArray out;
        try (ForwardScope scope = new ForwardScope()) {                          // frees the intermediates on return
            NDArray h = norm.forward(x);
            if (linear) {
                h = projIn.apply(h.transpose(0, 2, 3, 1).reshape(b, hw, c));      // [B, T, C] → [B, T, I]
            } else {
                h = projIn.apply(h).transpose(0, 2, 3, 1).reshape(b, hw, inner);  // [B, I, H, W] → [B, T, I]
            }
            for (BasicTransformerBlock block : transformerBlocks) {
                h = block.forward(h, context);                                       // [B, T, I]
            }
            if (linear) {
                h = projOut.apply(h).reshape(b, s.get(2), s.get(3), c).transpose(0, 3, 1, 2);   // [B, C, H, W]
            } else {
                h = projOut.apply(h.reshape(b, s.get(2), s.get(3), inner).transpose(0, 3, 1, 2)); // [B, C, H, W]
            }
            out = scope.keep(h.add(x));
        }
        return emit(x, out);
    }

    long[] shapes(ShapeSink s, long[] x) {
        long b = x[0];
        long t = x[2] * x[3];
        s.put(norm, x);
        long[] tokens = {b, t, inner};
        s.put(sub("proj_in"), linear ? tokens : ShapeSink.map(b, inner, x[2], x[3]));
        for (BasicTransformerBlock block : transformerBlocks) {
            block.shapes(s, tokens);
        }
        s.put(sub("proj_out"), linear ? new long[] {b, t, x[1]} : x);
        return s.put(this, x);
    }
}
