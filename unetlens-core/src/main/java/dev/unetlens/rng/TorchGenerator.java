package dev.unetlens.rng;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * torch's CPU generator ({@code at::CPUGeneratorImpl}) with its float32 {@code randn} and {@code rand} kernels, bit
 * for bit: {@code new TorchGenerator(s).randn(1, 4, 64, 64)} equals {@code torch.manual_seed(s);
 * torch.randn(1, 4, 64, 64)} and {@code torch.randn(..., generator=torch.Generator().manual_seed(s))}.
 *
 * <p>The generator is stateful: every draw advances it, and later draws continue where earlier ones stopped, as
 * torch's do. It is not thread-safe.
 *
 * <h2>What torch does (torch 1.13.1 and 2.x, {@code aten/src/ATen/native/cpu/DistributionTemplates.h})</h2>
 * <ul>
 *   <li><b>Engine.</b> {@link Mt19937}; {@code random()} is one 32-bit output, {@code random64()} two, the first
 *       as the high word.</li>
 *   <li><b>Uniform float32</b> ({@code rand}, and the inputs of the vectorised normal sampler): one 32-bit output,
 *       its low 24 bits times 2⁻²⁴, so u ∈ [0, 1 − 2⁻²⁴].</li>
 *   <li><b>randn, fewer than 16 elements</b> (and non-contiguous tensors): a scalar loop over
 *       {@code normal_distribution<double>}. Each pair of values costs two uniform <i>doubles</i> (53 bits of
 *       {@code random64()} each): u1, u2; r = √(−2·log(1 − u2)), θ = 2π·u1 (torch ≥ 2.3 writes
 *       {@code log1p(−u2)}, the log of the same, exactly representable, number); the value is r·cos θ and r·sin θ is
 *       cached in the generator and returned by the next such draw — even by a later {@code randn} call. Each
 *       double is rounded to float32.</li>
 *   <li><b>randn, 16 or more elements, float32</b>: {@code normal_fill}. All n uniforms are drawn first; then each
 *       full block of 16 is transformed in place by Box–Muller, lanes j and j+8 (j &lt; 8) forming a pair:
 *       u1 = 1 − d[j], u2 = d[j+8], r = √(−2·log u1), θ = 2π·u2, d[j] = r·cos θ, d[j+8] = r·sin θ. If n is not a
 *       multiple of 16, 16 <i>new</i> uniforms are drawn into the last 16 slots (overwriting values already
 *       transformed) and that block is transformed again. The double-precision cache is neither used nor cleared.</li>
 *   <li><b>Which Box–Muller.</b> {@code normal_stub} is compiled per CPU capability; the AVX-512 build registers no
 *       kernel for it ({@code REGISTER_NO_AVX512_DISPATCH}), so every x86-64 CPU with AVX2 — Intel or AMD, with or
 *       without AVX-512 — runs {@code normal_fill_16_AVX2}, whose {@code log}/{@code sin}/{@code cos} are the Cephes
 *       polynomials of {@link AvxMathFun} and whose last step is {@code fma(n, std, mean)}. That is what this class
 *       reproduces. (A CPU without AVX2, e.g. ARM, runs the scalar {@code normal_fill_16} with libm's {@code logf},
 *       {@code cosf}, {@code sinf}, and about 40% of its values differ from these in the last bit.)</li>
 *   <li><b>manual_seed</b> reseeds the engine and clears the cached normal.</li>
 * </ul>
 */
public final class TorchGenerator implements NoiseSource {
    private static final int VECTOR_MIN = 16;
    private static final float TWO_PI_F = (float) (2.0 * Math.PI);
    private static final double UNIFORM_DOUBLE_SCALE = 1.0 / (1L << 53);
    private static final float UNIFORM_FLOAT_SCALE = 1.0f / (1 << 24);

    private long seed;
    private Mt19937 engine;
    private boolean hasCachedNormal;
    private double cachedNormal;

    /** {@code torch.Generator().manual_seed(seed)}. */
    public TorchGenerator(long seed) {
        manualSeed(seed);
    }

    /** Reseeds: {@code generator.manual_seed(seed)}; also forgets the cached normal sample. */
    public void manualSeed(long seed) {
        this.seed = seed;
        this.engine = new Mt19937(seed);
        this.hasCachedNormal = false;
    }

    /** The seed last given ({@code initial_seed()}, as a signed long). */
    public long initialSeed() {
        return seed;
    }

    /** An independent generator in the same state (engine and cached normal). */
    public TorchGenerator copy() {
        TorchGenerator g = new TorchGenerator(seed);
        g.engine = engine.copy();
        g.hasCachedNormal = hasCachedNormal;
        g.cachedNormal = cachedNormal;
        return g;
    }

    /** {@code random()}: one engine output in [0, 2³²). */
    public long random() {
        return engine.next();
    }

    /** {@code random64()}: two engine outputs, the first as the high 32 bits. */
    public long random64() {
        long hi = engine.next();
        long lo = engine.next();
        return (hi << 32) | lo;
    }

    /** {@code torch.randn(shape)} in float32, row-major. */
    public float[] randn(long... shape) {
        int n = elementCount(shape);
        float[] out = new float[n];
        if (n >= VECTOR_MIN) {
            normalFill(out, 0f, 1f);
        } else {
            for (int i = 0; i < n; i++) {
                out[i] = (float) normalDouble(0.0, 1.0);
            }
        }
        return out;
    }

    /** {@code torch.rand(shape)} in float32 (uniform on [0, 1)), row-major. */
    public float[] rand(long... shape) {
        float[] out = new float[elementCount(shape)];
        for (int i = 0; i < out.length; i++) {
            out[i] = uniformFloat();
        }
        return out;
    }

    /** {@code torch.randn(shape, generator=this)} as a float32 NDArray owned by {@code manager}. */
    @Override
    public NDArray randn(NDManager manager, Shape shape) {
        return manager.create(randn(shape.getShape()), shape);
    }

    /** {@code torch.rand(shape, generator=this)} as a float32 NDArray owned by {@code manager}. */
    public NDArray rand(NDManager manager, Shape shape) {
        return manager.create(rand(shape.getShape()), shape);
    }

    /** {@code uniform_real_distribution<float>(0, 1)}: the low 24 bits of one output, times 2⁻²⁴. */
    private float uniformFloat() {
        return (engine.next() & 0xffffff) * UNIFORM_FLOAT_SCALE;
    }

    /** {@code uniform_real_distribution<double>(0, 1)}: the low 53 bits of {@code random64()}, times 2⁻⁵³. */
    private double uniformDouble() {
        return (random64() & ((1L << 53) - 1)) * UNIFORM_DOUBLE_SCALE;
    }

    /** {@code normal_distribution<double>}: Box–Muller on two uniform doubles, the sine half cached. */
    private double normalDouble(double mean, double std) {
        if (hasCachedNormal) {
            hasCachedNormal = false;
            return cachedNormal * std + mean;
        }
        double u1 = uniformDouble();
        double u2 = uniformDouble();
        double r = Math.sqrt(-2.0 * StrictMath.log(1.0 - u2));   // 1 − u2 is exact: torch 2.x's log1p(−u2) agrees
        double theta = 2.0 * Math.PI * u1;
        cachedNormal = r * StrictMath.sin(theta);
        hasCachedNormal = true;
        return r * StrictMath.cos(theta) * std + mean;
    }

    /** {@code normal_fill_AVX2}: uniforms for all, Box–Muller per block of 16, the ragged tail redrawn. */
    private void normalFill(float[] data, float mean, float std) {
        int size = data.length;
        for (int i = 0; i < size; i++) {
            data[i] = uniformFloat();
        }
        float[] sc = new float[2];
        for (int i = 0; i < size - 15; i += 16) {
            normalFill16(data, i, mean, std, sc);
        }
        if (size % 16 != 0) {
            int start = size - 16;   // recompute the last 16 values from fresh uniforms
            for (int i = 0; i < 16; i++) {
                data[start + i] = uniformFloat();
            }
            normalFill16(data, start, mean, std, sc);
        }
    }

    /** {@code normal_fill_16_AVX2}: lanes j and j+8 of the block at {@code off} form one Box–Muller pair. */
    private static void normalFill16(float[] data, int off, float mean, float std, float[] sc) {
        for (int j = 0; j < 8; j++) {
            float u1 = 1f - data[off + j];                       // [0, 1) → (0, 1] for log
            float u2 = data[off + j + 8];
            float radius = (float) Math.sqrt(-2f * AvxMathFun.log(u1));
            float theta = TWO_PI_F * u2;
            AvxMathFun.sincos(theta, sc);
            data[off + j] = Math.fma(radius * sc[1], std, mean);
            data[off + j + 8] = Math.fma(radius * sc[0], std, mean);
        }
    }

    private static int elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + java.util.Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return Math.toIntExact(n);
    }
}
