package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * torch.nn.Conv2d with square kernel, stride and zero padding. x [B, Cin, H, W] → [B, Cout, H', W'].
 *
 * <p>Two ways to the same sums: libtorch's convolution (oneDNN), and for big weights over small outputs — at least
 * {@link #GEMM_MIN_WEIGHTS} weights, at most {@link #GEMM_MAX_POSITIONS} positions: SD's 8×8 and 16×16 blocks — the
 * k² shifted copies of the input laid side by side (im2col) times the weight as one matrix product. oneDNN reorders
 * the weight into its blocked layout on every call, which at 8×8 costs more than the arithmetic (a 1280→1280 3×3
 * weight is 59 MB): measured on the 2-core development machine, 2.4× faster at 8×8, 1.3–1.5× at 16×16, slower from
 * 32×32 on. The two differ only in the order of the additions; against float64, the product's error is a tenth of
 * oneDNN's for 3×3 kernels ({@code Conv2dTest}). Small weights keep oneDNN's order, which is the reference's.
 *
 * <p>Big maps — input or output of at least {@link #BAND_MIN_BYTES}: the VAE's 256×256 and 512×512 stages — are
 * convolved in bands of output rows, each from its rows of the input plus the kernel's halo, into an output
 * allocated once. oneDNN copies a whole map into its blocked layout and computes the whole output in that layout
 * before copying it back, so one call at 256 channels × 512×512 holds its input three times over and its output
 * twice; a band holds a band's worth. Each output row is the same sum of the same products as in one call.
 */
public final class Conv2d extends Module {
    /** Output positions (H'·W') up to which the im2col product is used. */
    static final long GEMM_MAX_POSITIONS = 256;
    /** Weight elements from which it is used: below that oneDNN's weight reorder costs little (320→320 3×3: 0.9 Mi). */
    static final long GEMM_MIN_WEIGHTS = 1L << 20;
    /** Maps (input or output) from which a stride-1 "same" convolution runs in row bands. */
    static final long BAND_MIN_BYTES = 64L << 20;
    /** About this much input per band. */
    static final long BAND_BYTES = 16L << 20;
    private static final Shape DILATION = new Shape(1, 1);

    /** Rows [start, end) of a convolution's input, [B, Cin, end − start, W]. */
    @FunctionalInterface
    public interface Rows {
        NDArray get(long start, long end);
    }

    private final NDArray weight;   // [Cout, Cin, k, k]
    private final NDArray bias;     // [Cout]
    private final int kernel;
    private final int stride;
    private final int padding;

    public Conv2d(Weights w, String path, long in, long out, int kernel, int stride, int padding) {
        super(path);
        this.weight = w.take(sub("weight"), out, in, kernel, kernel);
        this.bias = w.take(sub("bias"), out);
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    public NDArray forward(NDArray x) {
        Shape s = x.getShape();
        long ho = outputSize(s.get(2));
        long wo = outputSize(s.get(3));
        NDArray y;
        if (ho * wo <= GEMM_MAX_POSITIONS && weight.size() >= GEMM_MIN_WEIGHTS) {
            y = im2col(x, ho, wo);
        } else if (banded(s)) {
            y = bands(x.getManager(), s, (a, b) -> x.get(":, :, {}:{}", a, b), bandRows(s));
        } else {
            y = direct(x);
        }
        return emit(x, y);
    }

    /**
     * Whether an input of this shape is convolved in row bands: a stride-1 convolution that keeps the size (odd
     * kernel, padding (k − 1)/2), with input or output of at least {@link #BAND_MIN_BYTES}.
     */
    boolean banded(Shape input) {
        long out = weight.getShape().get(0);
        long bytes = Math.max(input.get(1), out) * input.get(0) * input.get(2) * input.get(3) * Float.BYTES;
        return stride == 1 && 2 * padding == kernel - 1 && bytes >= BAND_MIN_BYTES;
    }

    /** Output rows per band for an input of this shape: about {@link #BAND_BYTES} of input, at least 8 rows. */
    static long bandRows(Shape input) {
        long rowBytes = input.get(0) * input.get(1) * input.get(3) * Float.BYTES;
        return Math.max(8, Math.min(input.get(2), BAND_BYTES / rowBytes));
    }

    /**
     * This convolution's output, on {@code manager}, for an input of shape {@code input} [B, Cin, H, W] given by
     * rows, computed {@code band} output rows at a time; bypasses the hook point (for callers that make the input
     * band by band: {@link Upsample2D}). Needs a stride-1 convolution that keeps the size.
     */
    NDArray bands(ai.djl.ndarray.NDManager manager, Shape input, Rows rows, long band) {
        long batch = input.get(0);
        long height = input.get(2);
        long width = input.get(3);
        NDArray y = manager.create(new Shape(batch, weight.getShape().get(0), height, width)); // uninitialised
        for (long a = 0; a < height; a += band) {
            long b = Math.min(height, a + band);
            try (ForwardScope scope = new ForwardScope()) {                    // frees the band's copies at once
                long start = Math.max(0, a - padding);
                long end = Math.min(height, b + padding);
                NDArray h = rows.get(start, end);                              // [B, Cin, end − start, W]
                long top = start - (a - padding);                              // zero rows beyond the map's edge
                long bottom = b + padding - end;
                if (top > 0 || bottom > 0) {
                    h = h.pad(new Shape(0, 0, top, bottom), 0);
                }
                NDArray part = h.getNDArrayInternal().convolution(h, weight, bias, new Shape(1, 1),
                        new Shape(0, padding), DILATION, 1).singletonOrThrow(); // [B, Cout, b − a, W]
                y.set(new NDIndex(":, :, {}:{}", a, b), part);
            }
        }
        return y;
    }

    NDArray weight() {
        return weight;
    }

    NDArray bias() {
        return bias;
    }

    long outputSize(long in) {
        return (in + 2L * padding - kernel) / stride + 1;
    }

    /** libtorch's convolution. */
    NDArray direct(NDArray x) {
        return x.getNDArrayInternal().convolution(x, weight, bias, new Shape(stride, stride),
                new Shape(padding, padding), DILATION, 1).singletonOrThrow();
    }

    /** The convolution as [Cout, Cin·k²] · [B, Cin·k², H'·W'] + bias, on x's manager. */
    NDArray im2col(NDArray x, long ho, long wo) {
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        NDArray cols;                                                          // [B, Cin·k², H'·W']
        if (kernel == 1 && stride == 1 && padding == 0) {
            cols = x.reshape(b, c, ho * wo);
        } else {
            NDArray p = padding == 0 ? x : x.pad(new Shape(padding, padding, padding, padding), 0); // [B, C, H+2p, W+2p]
            NDList shifts = new NDList(kernel * kernel);
            for (int ky = 0; ky < kernel; ky++) {
                for (int kx = 0; kx < kernel; kx++) {                          // tap (ky, kx): [B, C, H', W']
                    shifts.add(p.get(new NDIndex(":, :, {}:{}:{}, {}:{}:{}", ky, ky + stride * (ho - 1) + 1, stride,
                            kx, kx + stride * (wo - 1) + 1, stride)));
                }
            }
            cols = NDArrays.stack(shifts, 2).reshape(b, c * kernel * kernel, ho * wo); // (ci, ky, kx) as in the weight
        }
        long out = weight.getShape().get(0);
        NDArray matrix = weight.reshape(out, c * kernel * kernel);             // [Cout, Cin·k²], a view
        NDArray column = bias.reshape(out, 1);                                  // [Cout, 1], a view
        matrix.attach(x.getManager());                                          // so that the views and the
        column.attach(x.getManager());                                          // product live where x lives
        return matrix.matMul(cols).addi(column).reshape(b, out, ho, wo);
    }
}
