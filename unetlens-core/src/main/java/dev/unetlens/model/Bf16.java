package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import dev.unetlens.UnetlensException;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.Supplier;

/**
 * The bfloat16 path's casts, and whether this CPU has bf16 arithmetic.
 *
 * <p>DJL 0.35.1 cannot make a bfloat16 tensor: its JNI maps {@code DataType.BFLOAT16} to no torch dtype and aborts the
 * JVM on {@code toType(BFLOAT16)}. The cast goes through a one-method TorchScript module instead
 * ({@code bf16-casts.pt}, written by {@code src/main/torchscript/bf16_casts.py}), loaded once; the ops on its
 * outputs (convolution, linear, batched product) are DJL's ordinary bindings, which pass no dtype, and
 * {@code toType(FLOAT32)} widens their bf16 outputs. DJL reports a bf16 tensor's dtype as {@code UNKNOWN}, so a bf16
 * tensor never leaves the method that made it: every bf16 op here takes float32 and returns float32. The module's
 * outputs are inference-mode tensors (DJL runs TorchScript under {@code InferenceMode}); they are only ever read.
 *
 * <p>Which ops run in bf16, measured kernel by kernel ({@code bench-reference/bf16-kernels}; 2-core Zen 5 with
 * {@code avx512_bf16}): convolutions 1.8–2.8× faster, linear layers 2.6–2.9×, attention's Q·Kᵀ and P·V 1.7–4.3×;
 * softmax (0.99×) and the norms (1.1×) gain nothing, and a cast costs what a copy does. So only those products run
 * in bf16 — with fp32 accumulation inside the kernels, checked ({@link dev.unetlens.model.check.KernelChecks}) — and
 * the norms, softmax, the timestep embedding, the residual sums, every hook point and the scheduler stay float32.
 */
public final class Bf16 {
    private static final String RESOURCE = "bf16-casts.pt";
    private static final ThreadLocal<Boolean> SUSPENDED = ThreadLocal.withInitial(() -> false);
    private static volatile PtSymbolBlock cast;

    private Bf16() {
    }

    /**
     * Whether this CPU computes bf16 products natively: AVX512_BF16 or AMX-BF16 (flags of /proc/cpuinfo). Without
     * them libtorch emulates bf16 and is slower than fp32, so the path is refused there.
     */
    public static boolean supported() {
        try {
            java.util.Set<String> flags = CpuInfo.read().flags();
            return flags.contains("avx512_bf16") || flags.contains("amx_bf16");
        } catch (IOException e) {
            return false;
        }
    }

    /** Fails in one line where {@link #supported} is false. */
    public static void requireSupported() {
        if (!supported()) {
            throw new UnetlensException("--precision bf16 needs a CPU with AVX512_BF16 or AMX (this one has neither: its"
                    + " bf16 would be emulated, slower than fp32); use --precision fp32");
        }
    }

    /** {@code x} (float32) rounded to bfloat16 (to nearest, ties to even), on x's manager; dtype UNKNOWN to DJL. */
    public static NDArray of(NDArray x) {
        PtNDArray in = (PtNDArray) x;
        try (IValue arg = IValue.from(in); IValue out = IValueUtils.runMethod(module(in.getManager()), "forward", arg)) {
            return out.toTensor(in.getManager());
        }
    }

    /** A bf16 tensor widened to float32 (exactly), on its manager. */
    public static NDArray widen(NDArray bf16) {
        return bf16.toType(DataType.FLOAT32, false);
    }

    /**
     * A product in bfloat16 with float32 in and out: {@code x} cast, {@code op} on the cast (with the caller's bf16
     * weights), its output widened to float32 (exactly); the bf16 tensors are closed here.
     */
    public static NDArray apply(NDArray x, java.util.function.UnaryOperator<NDArray> op) {
        try (NDArray xb = of(x); NDArray yb = op.apply(xb)) {
            return widen(yb);
        }
    }

    /**
     * Whether the bf16 ways are in force on this thread: true unless inside {@link #suspended} — the fp32
     * reference forward that measures the bf16 path's error at run time.
     */
    public static boolean active() {
        return !SUSPENDED.get();
    }

    /** Runs {@code body} with the bf16 ways off on this thread: a bf16 model then computes exactly as fp32 does. */
    public static <T> T suspended(Supplier<T> body) {
        boolean before = SUSPENDED.get();
        SUSPENDED.set(true);
        try {
            return body.get();
        } finally {
            SUSPENDED.set(before);
        }
    }

    private static PtSymbolBlock module(PtNDManager manager) {
        PtSymbolBlock m = cast;
        if (m == null) {
            synchronized (Bf16.class) {
                if (cast == null) {
                    cast = load(manager);
                }
                m = cast;
            }
        }
        return m;
    }

    private static PtSymbolBlock load(PtNDManager manager) {
        try (InputStream in = Bf16.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " missing from the class path");
            }
            PtNDManager root = (PtNDManager) manager.getEngine().newBaseManager();  // outlives the caller's scopes
            return JniUtils.loadModule(root, in, false, false);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
