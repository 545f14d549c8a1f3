package dev.unetlens.model;

import ai.djl.ndarray.NDArray;

/**
 * diffusers models/upsampling.py {@code Upsample2D} with a convolution: nearest-neighbour upsampling ×2 (or to an
 * explicit size, which the U-Net asks for when its down path halved an odd size), then a 3×3 conv ({@code conv}).
 * x [B, C, H, W] → [B, C, 2H, 2W] (or [B, C, height, width]); hook: this path.
 */
public final class Upsample2D extends Module {
    private static final int NEAREST = 0;   // torch interpolate mode number in DJL's PyTorch engine
    private final Conv2d conv;

    public Upsample2D(Weights w, String path, long channels) {
        super(path);
        conv = add(new Conv2d(w, sub("conv"), channels, channels, 3, 1, 1));
    }

    /** Doubles H and W. */
    public NDArray forward(NDArray x) {
        return forward(x, 2 * x.getShape().get(2), 2 * x.getShape().get(3));
    }

    /** Upsamples to {@code height × width} with torch's nearest rule (source index ⌊dst·in/out⌋), then convolves. */
    public NDArray forward(NDArray x, long height, long width) {
        return emit(x, scoped(() -> {                                          // frees the 4× larger copy
            NDArray up = x.getNDArrayInternal().interpolation(new long[] {height, width}, NEAREST, false);
            return conv.forward(up);
        }));
    }
}
