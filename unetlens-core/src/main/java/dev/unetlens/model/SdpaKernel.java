package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;

import java.io.InputStream;

/**
 * torch's fused {@code scaled_dot_product_attention} for unetlens' attention core. DJL 0.35.1 binds no fused
 * attention, but its PyTorch engine runs TorchScript modules; {@code sdpa.pt} (a resource, 2 kB) is a module whose
 * forward is that one aten call, written by {@code src/main/torchscript/make_sdpa.py} with torch 2.6 and read by the
 * pinned libtorch 2.7.1. On CPU, for float32 or float64 without a mask, libtorch runs it as flash attention: queries
 * and keys in blocks with an online softmax, so no T×S score matrix exists and the blocks stay in cache.
 *
 * <p>It is loaded once per process, on first use, into a manager of its own that lives as long as the process. If it
 * cannot be loaded (a libtorch that does not read the file, no resource), {@link #available} is false and
 * {@link #unavailableReason} says why; {@link AttentionKernel#select} then warns and the explicit kernel runs.
 */
public final class SdpaKernel {
    static final String RESOURCE = "sdpa.pt";

    private SdpaKernel() {
    }

    /** Loaded once, on first use (the holder idiom: thread-safe, no lock after). */
    private static final class Loaded {
        static final PtSymbolBlock MODULE;
        static final String FAILURE;

        static {
            PtSymbolBlock module = null;
            String failure = null;
            try (InputStream in = SdpaKernel.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    failure = "the kernel " + RESOURCE + " is missing from the class path";
                } else {
                    NDManager owner = TorchRuntime.newBaseManager();          // held for the process
                    module = JniUtils.loadModule((PtNDManager) owner, in, false, false);
                }
            } catch (Exception | UnsatisfiedLinkError e) {
                failure = "the kernel " + RESOURCE + " could not be loaded by libtorch (" + e.getMessage() + ")";
            }
            MODULE = module;
            FAILURE = failure;
        }
    }

    /** Whether the fused kernel is loaded (loads it on the first call). */
    public static boolean available() {
        return Loaded.MODULE != null;
    }

    /** Why it is not available, or null if it is. */
    public static String unavailableReason() {
        return Loaded.FAILURE;
    }

    /**
     * softmax(q·kᵀ·scale)·v through torch's fused kernel: q [B, N, T, D], k [B, N, S, D], v [B, N, S, Dv] (any
     * strides with the last one 1, as {@link Attention}'s head views are) → [B, N, T, Dv], contiguous, in q's manager
     * and the current {@link ForwardScope}. Float32 or float64, all on the CPU.
     */
    public static NDArray attend(NDArray q, NDArray k, NDArray v, float scale) {
        if (!available()) {
            throw new IllegalStateException("SDPA kernel unavailable: " + unavailableReason());
        }
        IValue iq = IValue.from((PtNDArray) q);
        IValue ik = IValue.from((PtNDArray) k);
        IValue iv = IValue.from((PtNDArray) v);
        IValue is = IValue.from((double) scale);
        try (iq; ik; iv; is; IValue out = IValueUtils.runMethod(Loaded.MODULE, "forward", iq, ik, iv, is)) {
            return out.toTensor((PtNDManager) q.getManager());
        }
    }
}
