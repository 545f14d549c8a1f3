package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** torch.nn.LayerNorm over the last axis, with affine weight and bias. x [..., D] → [..., D]. */
public final class LayerNorm extends Module {
    private final NDArray weight;   // [D]
    private final NDArray bias;     // [D]
    private final Shape normalized;
    private final float eps;

    public LayerNorm(Weights w, String path, long dim, double eps) {
        super(path);
        this.weight = w.take(sub("weight"), dim);
        this.bias = w.take(sub("bias"), dim);
        this.normalized = new Shape(dim);
        this.eps = (float) eps;
    }

    public NDArray forward(NDArray x) {
        return emit(x, ai.djl.nn.norm.LayerNorm.layerNorm(x, normalized, weight, bias, eps).singletonOrThrow());
    }
}
