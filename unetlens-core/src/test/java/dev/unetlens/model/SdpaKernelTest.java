package dev.unetlens.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fused kernel ({@link SdpaKernel}) loads in the pinned libtorch, is the flash-attention kernel (libtorch's
 * profiler names the op it dispatches to), and computes softmax(Q·Kᵀ·scale)·V: here against the explicit chunked
 * kernel at SD's shapes; {@code KernelSweepTest} holds both to float64 over many odd shapes.
 */
class SdpaKernelTest {
    private static final NDManager M = NDManager.newBaseManager();

    @AfterAll
    static void close() {
        M.close();
    }

    @Test
    void loadsInThePinnedLibtorch() {
        assertThat(SdpaKernel.unavailableReason()).isNull();
        assertThat(SdpaKernel.available()).isTrue();
    }

    /** What is not a loadable kernel is said in one line (the warning before falling back to the explicit kernel). */
    @Test
    void anUnloadableKernelIsNamedInOneLine() {
        SdpaKernel.Loading missing = SdpaKernel.Loading.from(null);
        assertThat(missing.module()).isNull();
        assertThat(missing.failure()).isEqualTo("the kernel sdpa.pt is missing from the class path");
        SdpaKernel.Loading garbage = SdpaKernel.Loading.from(new java.io.ByteArrayInputStream(new byte[] {1, 2, 3}));
        assertThat(garbage.module()).isNull();
        assertThat(garbage.failure()).startsWith("the kernel sdpa.pt could not be loaded by libtorch (").doesNotContain("\n");
    }

    /** The CPU flash kernel runs (not the math fallback, which would build the T×S scores). */
    @Test
    void dispatchesToTheFlashKernel(@TempDir Path dir) throws IOException {
        try (ForwardScope scope = new ForwardScope()) {
            NDArray[] qkv = heads(1, 2, 64, 64, 40, 1);
            Path trace = dir.resolve("trace.json");
            JniUtils.startProfile(false, false, false);
            SdpaKernel.attend(qkv[0], qkv[1], qkv[2], 0.25f);
            JniUtils.stopProfile(trace.toString());
            String ops = Files.readString(trace);
            assertThat(ops).contains("_scaled_dot_product_flash_attention_for_cpu")
                    .doesNotContain("_scaled_dot_product_attention_math");
        }
    }

    /** Self-attention over 1024 tokens at batch 2, cross-attention to 77 tokens, the VAE's single wide head. */
    @Test
    void agreesWithTheExplicitKernel() {
        for (long[] s : new long[][] {{2, 8, 1024, 1024, 40}, {2, 8, 1024, 77, 80}, {1, 1, 1024, 1024, 512}}) {
            try (ForwardScope scope = new ForwardScope()) {
                NDArray[] qkv = heads(s[0], s[1], s[2], s[3], s[4], 3);
                float scale = (float) (1 / Math.sqrt(s[4]));
                NDArray fused = SdpaKernel.attend(qkv[0], qkv[1], qkv[2], scale);
                NDArray explicit = ChunkedAttention.attend(qkv[0], qkv[1], qkv[2], scale);
                assertThat(fused.getShape()).isEqualTo(explicit.getShape());
                assertThat(fused.getDataType()).isEqualTo(DataType.FLOAT32);
                // both within float32 rounding of the exact result (KernelSweepTest's bound): 1e-5 at these sizes
                assertThat(fused.sub(explicit).abs().max().getFloat()).as("shape %s", java.util.Arrays.toString(s))
                        .isLessThan(1e-5f);
            }
        }
    }

    /** q, k, v as {@link Attention} makes them: [B, T, N·D] viewed as [B, N, T, D] (strided). */
    static NDArray[] heads(long b, long n, long t, long s, long d, int seed) {
        Engine.getInstance().setRandomSeed(seed);
        return new NDArray[] {M.randomNormal(new Shape(b, t, n, d)).transpose(0, 2, 1, 3),
            M.randomNormal(new Shape(b, s, n, d)).transpose(0, 2, 1, 3),
            M.randomNormal(new Shape(b, s, n, d)).transpose(0, 2, 1, 3)};
    }
}
