package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.model.check.Comparison;
import dev.unetlens.model.check.ConvCheck;
import dev.unetlens.model.check.KernelChecks;
import dev.unetlens.model.check.WeightRows;

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
 *
 * <p>Every call goes through {@link KernelChecks}: the first call with a new shape checks the output against float64
 * sums at sampled positions and falls back to the next {@link ConvPath} if it is wrong (on AVX-512 CPUs oneDNN is, for
 * input channels over 20 that are not a multiple of 16; they take {@link ConvPath#PADDED_CHANNELS}).
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
    private final NDArray weightBf16;   // bf16 copies for a bf16 model ({@link Weights#reduced}), else null
    private final NDArray biasBf16;
    private volatile NDArray paddedWeight;   // [Cout, Cin rounded up to 16, k, k], made on first use
    private volatile NDArray weight64;       // float64 copies, made on first use
    private volatile NDArray bias64;
    private volatile WeightRows spotRows;    // a few output channels' weights in Java, for spot checks
    private final int kernel;
    private final int stride;
    private final int padding;

    public Conv2d(Weights w, String path, long in, long out, int kernel, int stride, int padding) {
        super(path);
        this.weight = w.take(sub("weight"), out, in, kernel, kernel);
        this.bias = w.take(sub("bias"), out);
        this.weightBf16 = w.reduced(weight);
        this.biasBf16 = w.reduced(bias);
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    public NDArray forward(NDArray x) {
        Shape s = x.getShape();
        NDArray y = banded(s)
                ? bands(x.getManager(), s, (a, b) -> x.get(":, :, {}:{}", a, b), bandRows(s))
                : convolve(x, padding, padding, preferred(s));
        return emit(x, y);
    }

    /** The way tried first for an input: im2col for big weights over small outputs, else oneDNN. */
    ConvPath preferred(Shape input) {
        long positions = outputSize(input.get(2)) * outputSize(input.get(3));
        return positions <= GEMM_MAX_POSITIONS && weight.size() >= GEMM_MIN_WEIGHTS ? ConvPath.IM2COL : ConvPath.ONEDNN;
    }

    /**
     * One convolution call, x [B, Cin, H, W] zero-padded by {@code padH} rows and {@code padW} columns on each side,
     * through the way {@link KernelChecks} found right for its shape (checking it on first use).
     */
    NDArray convolve(NDArray x, long padH, long padW, ConvPath preferred) {
        boolean bf16 = weightBf16 != null && Bf16.active();
        Key key = new Key(x.getShape(), weight.getShape(), stride, padH, padW, bf16);
        return KernelChecks.run("conv2d", key, ConvPath.order(preferred, x.getShape().get(1), bf16),
                ConvPath::usesOneDnn, new KernelChecks.Way<>() {
                    @Override
                    public NDArray compute(ConvPath path) {
                        return Conv2d.this.compute(x, padH, padW, path);
                    }

                    @Override
                    public Comparison check(ConvPath path, NDArray y, boolean thorough, java.util.SplittableRandom random) {
                        return thorough ? ConvCheck.compare(x, weight, bias, stride, padH, padW, y, random, path.arithmetic())
                                : ConvCheck.spot(x, weight.getShape(), spotRows(), stride, padH, padW, y, random,
                                        path.arithmetic());
                    }
                });
    }

    private WeightRows spotRows() {
        WeightRows r = spotRows;
        if (r == null) {
            r = WeightRows.of(weight, bias);                                   // racing threads read the same rows
            spotRows = r;
        }
        return r;
    }

    /** A call's shape and arithmetic: what a kernel's choice of code depends on. */
    record Key(Shape input, Shape weight, long stride, long padH, long padW, boolean bf16) {
        /** A float32 call. */
        Key(Shape input, Shape weight, long stride, long padH, long padW) {
            this(input, weight, stride, padH, padW, false);
        }

        @Override
        public String toString() {
            return "x" + input + " w" + weight + " stride " + stride + " pad " + padH + "," + padW + (bf16 ? " bf16" : "");
        }
    }

    /** One call through one way. */
    NDArray compute(NDArray x, long padH, long padW, ConvPath path) {
        return switch (path) {
            case BF16 -> bf16(x, padH, padW);
            case ONEDNN -> libtorch(x, weight, bias, padH, padW);
            case PADDED_CHANNELS -> libtorch(padChannels(x), paddedWeight(), bias, padH, padW);
            case IM2COL -> im2col(x, padH, padW);
            case FLOAT64 -> float64(x, padH, padW);
        };
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
                NDArray part = convolve(h, 0, padding, ConvPath.ONEDNN);        // [B, Cout, b − a, W]
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

    /** libtorch's convolution (oneDNN for float32). */
    private NDArray libtorch(NDArray x, NDArray w, NDArray b, long padH, long padW) {
        return x.getNDArrayInternal().convolution(x, w, b, new Shape(stride, stride), new Shape(padH, padW), DILATION, 1)
                .singletonOrThrow();
    }

    /** libtorch's convolution as this module is configured, through oneDNN, unchecked: for tests that compare paths. */
    NDArray direct(NDArray x) {
        return libtorch(x, weight, bias, padding, padding);
    }

    /** The bf16 way as this module is configured, unchecked (a bf16 model's): for tests that compare paths. */
    NDArray directBf16(NDArray x) {
        return bf16(x, padding, padding);
    }

    /** x with zero channels appended up to a multiple of {@link ConvPath#CHANNEL_BLOCK}: [B, Cin', H, W]. */
    private static NDArray padChannels(NDArray x) {
        long extra = Math.floorMod(-x.getShape().get(1), ConvPath.CHANNEL_BLOCK);
        return x.pad(new Shape(0, 0, 0, 0, 0, extra), 0);                     // (W, H, C) pairs, last axis first
    }

    private NDArray paddedWeight() {
        NDArray p = paddedWeight;
        if (p == null) {
            synchronized (this) {
                if (paddedWeight == null) {
                    paddedWeight = kept(padChannels(weight));
                }
                p = paddedWeight;
            }
        }
        return p;
    }

    /** The call in bfloat16: x cast, the weights' bf16 copies, the output widened to float32 (exactly). */
    private NDArray bf16(NDArray x, long padH, long padW) {
        return Bf16.apply(x, xb -> libtorch(xb, weightBf16, biasBf16, padH, padW));
    }

    /** The call in float64 (libtorch's non-oneDNN convolution), rounded to float32. */
    private NDArray float64(NDArray x, long padH, long padW) {
        if (weight64 == null) {
            synchronized (this) {
                if (weight64 == null) {
                    bias64 = kept(bias.toType(DataType.FLOAT64, true));
                    weight64 = kept(weight.toType(DataType.FLOAT64, true));
                }
            }
        }
        try (NDArray x64 = x.toType(DataType.FLOAT64, true); NDArray y64 = libtorch(x64, weight64, bias64, padH, padW)) {
            return y64.toType(DataType.FLOAT32, true);
        }
    }

    /** {@code a}, made from the weights during a forward, kept as long as the weights (out of any forward scope). */
    private NDArray kept(NDArray a) {
        ForwardScope.detach(a).attach(weight.getManager());
        return a;
    }

    /** The call as [Cout, Cin·k²] · [B, Cin·k², H'·W'] + bias, on x's manager. */
    NDArray im2col(NDArray x, long padH, long padW) {
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long ho = (s.get(2) + 2 * padH - kernel) / stride + 1;
        long wo = (s.get(3) + 2 * padW - kernel) / stride + 1;
        NDArray cols;                                                          // [B, Cin·k², H'·W']
        if (kernel == 1 && stride == 1 && padH == 0 && padW == 0) {
            cols = x.reshape(b, c, ho * wo);
        } else {
            NDArray p = padH == 0 && padW == 0 ? x : x.pad(new Shape(padW, padW, padH, padH), 0); // [B, C, H+2pH, W+2pW]
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
