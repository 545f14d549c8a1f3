package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * diffusers models/downsampling.py {@code Downsample2D} with a convolution: a 3×3 stride-2 conv ({@code conv}).
 * With {@code padding = 0} (the VAE encoder) the input is first padded asymmetrically by one zero row at the
 * bottom and one zero column at the right, (0, 1, 0, 1). x [B, C, H, W] → [B, C, ⌈H/2⌉, ⌈W/2⌉] with padding 1,
 * [B, C, ⌊H/2⌋, ⌊W/2⌋] with the asymmetric padding; hook: this path.
 */
public final class Downsample2D extends Module {
    private static final Shape ASYMMETRIC = new Shape(0, 1, 0, 1);   // (left, right, top, bottom) on W then H
    private final Conv2d conv;
    private final boolean padAsymmetric;

    public Downsample2D(Weights w, String path, long channels, int padding) {
        super(path);
        conv = add(new Conv2d(w, sub("conv"), channels, channels, 3, 2, padding));
        padAsymmetric = padding == 0;
    }

    public NDArray forward(NDArray x) {
        NDArray h = padAsymmetric ? x.pad(ASYMMETRIC, 0) : x;                  // [B, C, H+1, W+1] in the VAE
        return emit(x, conv.forward(h));
    }
}
