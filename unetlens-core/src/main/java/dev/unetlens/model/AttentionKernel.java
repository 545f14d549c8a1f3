package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import dev.unetlens.UnetlensException;

import java.util.Arrays;
import java.util.Locale;

/**
 * Which kernel computes the attention core {@code softmax(Q·Kᵀ·scale)·V} of every {@link Attention} in the process:
 * {@link #SDPA}, torch's fused {@code scaled_dot_product_attention} ({@link SdpaKernel}: a CPU flash-attention
 * kernel, run as a one-op TorchScript module; the default, as in diffusers on torch 2; EXPLICIT runs where it cannot
 * be loaded), or {@link #EXPLICIT}, unetlens' own chunked softmax ({@link ChunkedAttention}). Measured on the
 * full-size SD 1.5 U-Net at 64×64 on a quiet 2-vCPU AMD EPYC: SDPA 0.82× the explicit kernel's time at batch 1 and
 * 0.79× at batch 2 ({@code bench-reference/runs/2026-12-03-zen5-quiet}). Both are held to float64 by the kernel
 * sweep and, as they run, by the attention checks ({@code AttentionCore}). Chosen once per run ({@code --attention})
 * before the first forward, and recorded in the run's manifest (the {@code compute} record). Either way every module
 * output and the attention probabilities stay reachable: the kernel replaces only the core between q, k, v and the
 * heads' mix.
 */
public enum AttentionKernel {
    /** unetlens' chunked softmax attention: scores of a chunk of queries at a time, then softmax, then · V. */
    EXPLICIT {
        @Override
        public NDArray attend(NDArray q, NDArray k, NDArray v, float scale) {
            return ChunkedAttention.attend(q, k, v, scale);
        }
    },
    /** torch's fused scaled_dot_product_attention (flash attention on CPU); falls back to EXPLICIT if unloadable. */
    SDPA {
        @Override
        public NDArray attend(NDArray q, NDArray k, NDArray v, float scale) {
            return SdpaKernel.attend(q, k, v, scale);
        }
    };

    /** System property that sets the kernel a process starts with (tests: {@code -Dunetlens.attention=sdpa}). */
    public static final String PROPERTY = "unetlens.attention";
    private static volatile AttentionKernel selected = SDPA;

    static {
        String named = System.getProperty(PROPERTY);
        if (named != null) {
            try {
                select(parse(named));
            } catch (UnetlensException e) {
                System.err.println("warning: -D" + PROPERTY + ": " + e.getMessage() + "; using explicit");
            }
        }
    }

    /**
     * softmax(q·kᵀ·scale)·v with this kernel: q [B, N, T, D], k [B, N, S, D], v [B, N, S, Dv] (head views with
     * the last stride 1) → [B, N, T, Dv]; the probabilities are never all held at once.
     */
    public abstract NDArray attend(NDArray q, NDArray k, NDArray v, float scale);

    /** The kernel asked for ({@link SdpaKernel#available} says whether SDPA can run). */
    public static AttentionKernel selected() {
        return selected;
    }

    /**
     * Selects the kernel for every attention from now on. Selecting {@link #SDPA} loads it at once; if it cannot be
     * loaded, one line on stderr says why and {@link #EXPLICIT} runs instead (the manifest records both).
     */
    public static void select(AttentionKernel kernel) {
        selected = kernel;
        if (kernel == SDPA && !SdpaKernel.available()) {
            System.err.println("warning: --attention sdpa: " + SdpaKernel.unavailableReason()
                    + "; computing attention with the explicit kernel instead");
        }
    }

    /** The kernel that actually runs: the selected one, or EXPLICIT when SDPA is selected but unloadable. */
    public static AttentionKernel effective() {
        return selected == SDPA && SdpaKernel.available() ? SDPA : EXPLICIT;
    }

    /** "sdpa" or "explicit" (any case) → the kernel; anything else is refused naming the choices. */
    public static AttentionKernel parse(String name) {
        try {
            return valueOf(name.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UnetlensException("--attention must be one of " + Arrays.stream(values()).map(AttentionKernel::label)
                    .toList() + ", got '" + name + "'");
        }
    }

    /** The name used on the command line and in manifests. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
