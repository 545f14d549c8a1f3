package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * The fast path of {@link Attention}'s core, {@code softmax(Q·Kᵀ·scale)·V}, for when nobody listens to the
 * probabilities: the queries are taken in chunks of rows, so the scores of at most {@link #SCORE_BUDGET} elements
 * exist at a time instead of all (B·N, T, S) of them — at a 64×64 latent that is 16 MB instead of 512 MB per
 * self-attention (1 GB at batch 2), and the chunk's scores stay in the CPU's cache between the matmul, the scaling,
 * the softmax and the second matmul. The arithmetic per element is that of the plain path (the same matmuls,
 * scaling after Q·Kᵀ as diffusers' {@code baddbmm(…, alpha=scale)} does, the same softmax over the same rows);
 * {@code ChunkedAttentionTest} checks the two against each other.
 *
 * <p>Shapes: q [B, N, T, D], k and v [B, N, S, D] (any strides) → [B, N, T, D].
 */
final class ChunkedAttention {
    /** Elements of one chunk's scores: 4 Mi floats, 16 MB. */
    static final long SCORE_BUDGET = 1L << 22;
    /**
     * Query rows per chunk at least, whatever the budget: a BLAS given a single row takes a matrix-vector kernel that
     * sums in another order than the matrix-matrix one of the plain path.
     */
    static final long MIN_ROWS = 32;

    private ChunkedAttention() {
    }

    static NDArray attend(NDArray q, NDArray k, NDArray v, float scale) {
        return attend(q, k, v, scale, SCORE_BUDGET);
    }

    /** {@link #attend} with another chunk budget (tests). */
    static NDArray attend(NDArray q, NDArray k, NDArray v, float scale, long budget) {
        Shape qs = q.getShape();
        long b = qs.get(0);
        long n = qs.get(1);
        long t = qs.get(2);
        long d = qs.get(3);
        long s = k.getShape().get(2);
        NDArray q3 = q.reshape(b * n, t, d);                                   // [B·N, T, D]
        NDArray kT = k.reshape(b * n, s, d).transpose(0, 2, 1);                // [B·N, D, S]
        NDArray v3 = v.reshape(b * n, s, v.getShape().get(3));                 // [B·N, S, Dv]
        long rows = Math.min(t, Math.max(MIN_ROWS, budget / (b * n * s)));      // query rows per chunk
        NDList chunks = new NDList();
        for (long i = 0; i < t; i += rows) {
            NDArray qc = rows == t ? q3 : q3.get(new NDIndex(":, {}:{}", i, Math.min(t, i + rows)));
            try (ForwardScope scope = new ForwardScope()) {                    // frees the chunk's scores
                NDArray scores = qc.batchMatMul(kT).muli(scale);               // [B·N, c, S], nobody has seen it
                chunks.add(scope.keep(scores.softmax(-1).batchMatMul(v3)));    // [B·N, c, Dv]
            }
        }
        NDArray o = chunks.size() == 1 ? chunks.head() : NDArrays.concat(chunks, 1);   // [B·N, T, Dv]
        return o.reshape(b, n, t, o.getShape().get(2));
    }
}
