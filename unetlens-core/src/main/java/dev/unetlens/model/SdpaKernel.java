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

    /** The kernel loaded from a stream, or why it could not be (one line). */
    record Loading(PtSymbolBlock module, String failure) {
        /** Reads a TorchScript module from {@code in} (null: the resource is missing) into a process-long manager. */
        static Loading from(InputStream in) {
            if (in == null) {
                return new Loading(null, "the kernel " + RESOURCE + " is missing from the class path");
            }
            try (in) {
                NDManager owner = TorchRuntime.newBaseManager();               // held for the process
                return new Loading(JniUtils.loadModule((PtNDManager) owner, in, false, false), null);
            } catch (Exception | UnsatisfiedLinkError e) {
                String why = String.valueOf(e.getMessage()).lines().findFirst().orElse(e.getClass().getSimpleName());
                return new Loading(null, "the kernel " + RESOURCE + " could not be loaded by libtorch (" + why + ")");
            }
        }
    }

    /** Loaded once, on first use (the holder idiom: thread-safe, no lock after). */
    private static final class Loaded {
        static final Loading KERNEL = Loading.from(SdpaKernel.class.getResourceAsStream(RESOURCE));
    }

    /** Whether the fused kernel is loaded (loads it on the first call). */
    public static boolean available() {
        return Loaded.KERNEL.module() != null;
    }

    /** Why it is not available, or null if it is. */
    public static String unavailableReason() {
        return Loaded.KERNEL.failure();
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
        try (iq; ik; iv; is; IValue out = IValueUtils.runMethod(Loaded.KERNEL.module(), "forward", iq, ik, iv, is)) {
            return out.toTensor((PtNDManager) q.getManager());
        }
    }
}
