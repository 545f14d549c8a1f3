package dev.unetlens.model;

import ai.djl.ndarray.NDArray;

/** torch.nn.Linear: {@code y = x·Wᵀ + b} over the last axis. x [..., in] → [..., out]; hook: this path. */
public final class Linear extends Module {
    private final NDArray weight;   // [out, in]
    private final NDArray bias;     // [out] or null

    public Linear(Weights w, String path, long in, long out, boolean bias) {
        super(path);
        this.weight = w.take(sub("weight"), out, in);
        this.bias = bias ? w.take(sub("bias"), out) : null;
    }

    public NDArray forward(NDArray x) {
        return emit(x, ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow());
    }
}
