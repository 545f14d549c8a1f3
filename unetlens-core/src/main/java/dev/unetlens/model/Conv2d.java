package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** torch.nn.Conv2d with square kernel, stride and zero padding. x [B, Cin, H, W] → [B, Cout, H', W']. */
public final class Conv2d extends Module {
    private final NDArray weight;   // [Cout, Cin, k, k]
    private final NDArray bias;     // [Cout]
    private final Shape stride;
    private final Shape padding;
    private static final Shape DILATION = new Shape(1, 1);

    public Conv2d(Weights w, String path, long in, long out, int kernel, int stride, int padding) {
        super(path);
        this.weight = w.take(sub("weight"), out, in, kernel, kernel);
        this.bias = w.take(sub("bias"), out);
        this.stride = new Shape(stride, stride);
        this.padding = new Shape(padding, padding);
    }

    public NDArray forward(NDArray x) {
        NDArray y = x.getNDArrayInternal().convolution(x, weight, bias, stride, padding, DILATION, 1)
                .singletonOrThrow();
        return emit(x, y);
    }
}
