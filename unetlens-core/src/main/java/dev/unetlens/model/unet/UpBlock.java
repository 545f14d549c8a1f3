package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.Module;

import java.util.List;

/**
 * What the two up block types share: each resnet j concatenates the hidden states with the skip popped from the
 * end of the down path's list ({@code cat([h, skip], dim=1)}); the block ends (except in the last level) with an
 * upsampler to the size of the next skip it will meet, which is diffusers' {@code forward_upsample_size} rule and
 * equals ×2 whenever H and W divide by 2^(levels−1). Hook: this path, the block's output; a replacement is the
 * next up block's (or conv_norm_out's) input. Replacing a child's output ({@code …resnets.j}, {@code …attentions.j},
 * {@code …upsamplers.0}) changes the rest of the block; the skips it concatenates are the down blocks' (see
 * {@link DownBlock} for replacing those).
 */
public abstract sealed class UpBlock extends Module permits CrossAttnUpBlock2D, UpBlock2D {
    protected UpBlock(String path) {
        super(path);
    }

    /** How many skips the block pops: one per resnet. */
    public abstract int resnetCount();

    /**
     * h [B, Cprev, H, W], skips: this block's skips in push order (the last is consumed first), temb [B, Ct],
     * context [B, S, Dc] (unused by UpBlock2D), upsampleSize {height, width} of the next skip, or null in the last
     * block → [B, Cout, height, width] (or [B, Cout, H, W] in the last block).
     */
    public abstract NDArray forward(NDArray h, List<NDArray> skips, NDArray temb, NDArray context, long[] upsampleSize);

    /** Records the shapes of the block's points and children; returns its output shape. */
    abstract long[] shapes(ShapeSink s, long[] x, List<long[]> skips, long[] upsampleSize);
}
