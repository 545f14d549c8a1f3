package dev.unetlens.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The chunked attention core against the plain one ({@code softmax(Q·Kᵀ·scale)·V} over all of the scores at
 * once) at the SD shapes that matter: self-attention over many tokens, cross-attention to 77 text tokens, the
 * VAE's single wide head, with chunk sizes that do and do not divide the query count. Each element is the same
 * arithmetic on the same values, so they agree to the last bit on one thread; 1e-6 is allowed for BLAS kernels
 * that block a shorter matrix differently. (A chunk has at least {@link ChunkedAttention#MIN_ROWS} rows: with a
 * single row the BLAS takes a matrix-vector kernel, which sums in another order — 1.01e-6 off here.)
 */
class ChunkedAttentionTest {
    private static final NDManager M = NDManager.newBaseManager();
    private static final double TOLERANCE = 1e-6;

    @AfterAll
    static void close() {
        M.close();
    }

    @Test
    void selfAttentionOverManyTokens() {
        check(2, 8, 1024, 1024, 40, new long[] {1, 7 * 1024 * 16, 100 * 1024 * 16, ChunkedAttention.SCORE_BUDGET});
    }

    @Test
    void crossAttentionToText() {
        check(2, 8, 1024, 77, 80, new long[] {5 * 77 * 16, ChunkedAttention.SCORE_BUDGET});
    }

    @Test
    void vaeSingleWideHead() {
        check(1, 1, 1024, 1024, 512, new long[] {333 * 1024, ChunkedAttention.SCORE_BUDGET});
    }

    /**
     * Looking at the probabilities must not change what the module outputs: the probabilities computed whole (in
     * the same chunks) and mixed with V give the fast path's output bit for bit — here over 4 chunks (B·N = 16,
     * 1024 × 1024 scores) and over one (cross-attention to 77 tokens).
     */
    @Test
    void lookingAtTheProbabilitiesChangesNoBit() {
        for (long[] shape : new long[][] {{2, 8, 1024, 1024, 40}, {2, 8, 1024, 77, 80}, {1, 1, 64, 64, 512}}) {
            try (ForwardScope scope = new ForwardScope()) {
                long b = shape[0], n = shape[1], t = shape[2], s = shape[3], d = shape[4];
                float scale = (float) (1 / Math.sqrt(d));
                NDArray[] qkv = qkv(shape, 11);
                NDArray q = qkv[0], k = qkv[1], v = qkv[2];
                NDArray probs = ChunkedAttention.probs(q, k, scale);
                assertThat(probs.getShape()).isEqualTo(new Shape(b, n, t, s));
                assertThat(ChunkedAttention.mix(probs, v).toFloatArray())
                        .isEqualTo(ChunkedAttention.attend(q, k, v, scale).toFloatArray());
                NDArray plain = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale).softmax(-1);
                assertThat(probs.sub(plain).abs().max().getFloat()).isLessThanOrEqualTo((float) TOLERANCE);
            }
        }
    }

    /** The same in bf16: probabilities from bf16 Q·Kᵀ, mixed by a bf16 P·V in the same chunks, bit for bit. */
    @Test
    void lookingAtTheProbabilitiesChangesNoBitInBf16() {
        for (long[] shape : new long[][] {{2, 8, 1024, 1024, 40}, {2, 8, 1024, 77, 80}}) {
            try (ForwardScope scope = new ForwardScope()) {
                float scale = (float) (1 / Math.sqrt(shape[4]));
                NDArray[] qkv = qkv(shape, 12);
                NDArray q = qkv[0], k = qkv[1], v = qkv[2];
                NDArray fast = ChunkedAttention.attend(q, k, v, scale, true);
                assertThat(ChunkedAttention.mix(ChunkedAttention.probs(q, k, scale, true), v, true).toFloatArray())
                        .isEqualTo(fast.toFloatArray());
                assertThat(fast.toFloatArray()).as("the bf16 products ran").isNotEqualTo(
                        ChunkedAttention.attend(q, k, v, scale).toFloatArray());
            }
        }
    }

    /** Seeded q [B, N, T, D], k and v [B, N, S, D] (views of [B, T, N, D] as attention makes them) of {B, N, T, S, D}. */
    private static NDArray[] qkv(long[] shape, int seed) {
        Engine.getInstance().setRandomSeed(seed);
        long b = shape[0], n = shape[1], t = shape[2], s = shape[3], d = shape[4];
        return new NDArray[] {M.randomNormal(new Shape(b, t, n, d)).transpose(0, 2, 1, 3),
            M.randomNormal(new Shape(b, s, n, d)).transpose(0, 2, 1, 3),
            M.randomNormal(new Shape(b, s, n, d)).transpose(0, 2, 1, 3)};
    }

    private static void check(long b, long n, long t, long s, long d, long[] budgets) {
        try (ForwardScope scope = new ForwardScope()) {
            Engine.getInstance().setRandomSeed(7);
            float scale = (float) (1 / Math.sqrt(d));
            // heads as Attention makes them: [B, T, N·D] viewed as [B, N, T, D]
            NDArray q = M.randomNormal(new Shape(b, t, n, d)).transpose(0, 2, 1, 3);
            NDArray k = M.randomNormal(new Shape(b, s, n, d)).transpose(0, 2, 1, 3);
            NDArray v = M.randomNormal(new Shape(b, s, n, d)).transpose(0, 2, 1, 3);
            NDArray plain = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale).softmax(-1).matMul(v);
            for (long budget : budgets) {
                NDArray chunked = ChunkedAttention.attend(q, k, v, scale, budget);
                assertThat(chunked.getShape()).isEqualTo(plain.getShape());
                double diff = chunked.sub(plain).abs().max().getFloat();
                assertThat(diff).as("max |chunked − plain| with a budget of " + budget + " scores").isLessThanOrEqualTo(TOLERANCE);
            }
        }
    }
}
