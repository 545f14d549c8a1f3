package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.model.check.Arithmetic;
import dev.unetlens.model.check.AttentionCheck;
import dev.unetlens.model.check.Comparison;
import dev.unetlens.model.check.KernelChecks;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@link Attention}'s core, {@code softmax(Q·Kᵀ·scale)·V}, through {@link KernelChecks} like every native product:
 * the first call of a shape is checked thoroughly against float64 ({@link AttentionCheck}), every later call at a
 * few query rows. The ways, in the order tried: the kernel in use ({@link AttentionKernel#SDPA}; the explicit kernel
 * in bf16 for a bf16 model's explicit attention, checked with the bf16 bound), the explicit kernel in float32, then
 * the explicit kernel in float64.
 *
 * <p>Shapes: q [B, N, T, D], k [B, N, S, D], v [B, N, S, Dv] (head views) → [B, N, T, Dv].
 */
final class AttentionCore {
    private AttentionCore() {
    }

    /** The ways to the core. */
    enum Path {
        SDPA, BF16, EXPLICIT, FLOAT64;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** A core's shapes and the kernel asked for. */
    record Key(Shape q, Shape k, Shape v, AttentionKernel kernel, boolean bf16) {
        @Override
        public String toString() {
            return "q" + q + " k" + k + " v" + v + " (" + kernel.label() + ")" + (bf16 ? " bf16" : "");
        }
    }

    /**
     * The core through {@code kernel}, checked. {@code probs}: the explicit kernel's probabilities where they were
     * already computed for a listener (the explicit way then mixes them with V, bit for bit its own output), else null.
     * {@code bf16}: the explicit kernel's bf16 way first (a bf16 model's explicit attention; probs then its bf16 ones).
     */
    static NDArray attend(AttentionKernel kernel, NDArray q, NDArray k, NDArray v, float scale, NDArray probs,
                          boolean bf16) {
        Key key = new Key(q.getShape(), k.getShape(), v.getShape(), kernel, bf16);
        List<Path> paths = bf16 ? List.of(Path.BF16, Path.EXPLICIT, Path.FLOAT64)
                : kernel == AttentionKernel.SDPA ? List.of(Path.SDPA, Path.EXPLICIT, Path.FLOAT64)
                : List.of(Path.EXPLICIT, Path.FLOAT64);
        return KernelChecks.run("attention", key, paths, p -> false, new KernelChecks.Way<>() {
            @Override
            public NDArray compute(Path path) {
                return switch (path) {
                    case SDPA -> SdpaKernel.attend(q, k, v, scale);
                    case BF16 -> probs != null ? ChunkedAttention.mix(probs, v, true) : ChunkedAttention.attend(q, k, v, scale, true);
                    case EXPLICIT -> probs != null && !bf16 ? ChunkedAttention.mix(probs, v) : ChunkedAttention.attend(q, k, v, scale);
                    case FLOAT64 -> float64(q, k, v, scale);
                };
            }

            @Override
            public Comparison check(Path path, NDArray y, boolean thorough, SplittableRandom random) {
                return AttentionCheck.compare(q, k, v, scale, y, thorough, random,
                        path == Path.BF16 ? Arithmetic.BFLOAT16 : Arithmetic.FLOAT32);
            }
        });
    }

    /** The explicit kernel on float64 copies, rounded to float32 once at the end. */
    private static NDArray float64(NDArray q, NDArray k, NDArray v, float scale) {
        try (NDArray q64 = q.toType(DataType.FLOAT64, true); NDArray k64 = k.toType(DataType.FLOAT64, true);
             NDArray v64 = v.toType(DataType.FLOAT64, true); NDArray y64 = ChunkedAttention.attend(q64, k64, v64, scale)) {
            return y64.toType(DataType.FLOAT32, true);
        }
    }
}
