package dev.unetlens.model.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.model.Linear;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;

/**
 * transformers {@code CLIPAttention} (eager): causal multi-head self-attention over the tokens.
 * x [B, T, D] → [B, T, D]; hook points: this path and {@code path:probs} [B, N, T, T].
 */
public final class ClipAttention extends Module {
    private final Linear qProj;
    private final Linear kProj;
    private final Linear vProj;
    private final Linear outProj;
    private final int heads;
    private final float scale;
    private final Point probsPoint;

    public ClipAttention(Weights w, String path, int dim, int heads) {
        super(path);
        qProj = add(new Linear(w, sub("q_proj"), dim, dim, true));
        kProj = add(new Linear(w, sub("k_proj"), dim, dim, true));
        vProj = add(new Linear(w, sub("v_proj"), dim, dim, true));
        outProj = add(new Linear(w, sub("out_proj"), dim, dim, true));
        this.heads = heads;
        this.scale = (float) Math.pow(dim / heads, -0.5);
        this.probsPoint = point(":probs");
    }

    @Override
    public String typeName() {
        return "CLIPAttention";
    }

    /** x [B, T, D], causalMask [T, T] (0 on and below the diagonal, float32 min above). */
    public NDArray forward(NDArray x, NDArray causalMask) {
        NDArray q = heads(qProj.forward(x));                                   // [B, N, T, Dh]
        NDArray k = heads(kProj.forward(x));
        NDArray v = heads(vProj.forward(x));
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale).add(causalMask); // [B, N, T, T]
        NDArray probs = scores.softmax(-1);
        if (listening(probsPoint)) {
            probs = emit(probsPoint, x, probs);
        }
        NDArray o = probs.matMul(v);                                           // [B, N, T, Dh]
        Shape s = o.getShape();
        o = o.transpose(0, 2, 1, 3).reshape(s.get(0), s.get(2), s.get(1) * s.get(3)); // [B, T, D]
        return emit(x, outProj.forward(o));
    }

    private NDArray heads(NDArray t) {
        Shape s = t.getShape();
        return t.reshape(s.get(0), s.get(1), heads, s.get(2) / heads).transpose(0, 2, 1, 3);
    }
}
