package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * diffusers models/upsampling.py {@code Upsample2D} with a convolution: nearest-neighbour upsampling ×2 (or to an
 * explicit size, which the U-Net asks for when its down path halved an odd size), then a 3×3 conv ({@code conv}).
 * x [B, C, H, W] → [B, C, 2H, 2W] (or [B, C, height, width]); hook: this path.
 *
 * <p>When the convolution runs in row bands ({@link Conv2d}: the VAE's last two upsamplers) and nobody listens to it,
 * the ×2 map is made band by band too, so the 4× larger copy never exists whole (at 256 channels and 512×512 it is
 * 256 MB). Nearest-neighbour copies are exact, so the numbers are the same.
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
        Shape s = x.getShape();
        Shape upShape = new Shape(s.get(0), s.get(1), height, width);
        boolean doubled = height == 2 * s.get(2) && width == 2 * s.get(3);
        if (doubled && conv.banded(upShape) && !conv.listening()) {
            return emit(x, conv.bands(x.getManager(), upShape, (a, b) -> doubledRows(x, a, b), Conv2d.bandRows(upShape)));
        }
        return emit(x, scoped(() -> {                                          // frees the 4× larger copy
            NDArray up = x.getNDArrayInternal().interpolation(new long[] {height, width}, NEAREST, false);
            return conv.forward(up);
        }));
    }

    /** Rows [a, b) of x doubled by nearest neighbours: output row r is input row ⌊r/2⌋. */
    static NDArray doubledRows(NDArray x, long a, long b) {
        long from = a / 2;
        long to = (b + 1) / 2;                                                 // input rows [from, to) cover [a, b)
        NDArray part = x.get(":, :, {}:{}", from, to);
        NDArray up = part.getNDArrayInternal().interpolation(new long[] {2 * (to - from), 2 * x.getShape().get(3)},
                NEAREST, false);                                               // rows [2·from, 2·to)
        return up.get(":, :, {}:{}", a - 2 * from, b - 2 * from);
    }
}
