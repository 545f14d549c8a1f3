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
        Heads h = Heads.of(q, k, v);
        long rows = h.rowsPerChunk(budget);
        NDList chunks = new NDList();
        for (long i = 0; i < h.t; i += rows) {
            try (ForwardScope scope = new ForwardScope()) {                    // frees the chunk's scores
                NDArray p = h.scores(i, rows).muli(scale).softmax(-1);         // [B·N, c, S], nobody has seen it
                chunks.add(scope.keep(p.batchMatMul(h.v3)));                   // [B·N, c, Dv]
            }
        }
        return h.output(chunks);
    }

    /**
     * The probabilities softmax(Q·Kᵀ·scale) [B, N, T, S], all of them, computed chunk by chunk exactly as
     * {@link #attend} computes them, so that a run that looks at them gives bit for bit the output of one that does
     * not.
     */
    static NDArray probs(NDArray q, NDArray k, float scale) {
        Heads h = Heads.of(q, k, null);
        long rows = h.rowsPerChunk(SCORE_BUDGET);
        NDList chunks = new NDList();
        for (long i = 0; i < h.t; i += rows) {
            chunks.add(h.scores(i, rows).muli(scale).softmax(-1));             // [B·N, c, S]
        }
        NDArray p = chunks.size() == 1 ? chunks.head() : NDArrays.concat(chunks, 1); // [B·N, T, S]
        return p.reshape(h.b, h.n, h.t, h.s);
    }

    /** probs [B, N, T, S] · v [B, N, S, Dv] → [B, N, T, Dv], in the chunks of {@link #attend}. */
    static NDArray mix(NDArray probs, NDArray v) {
        Shape ps = probs.getShape();
        Heads h = new Heads(ps.get(0), ps.get(1), ps.get(2), ps.get(3), null, null,
                v.reshape(ps.get(0) * ps.get(1), ps.get(3), v.getShape().get(3)));
        NDArray p3 = probs.reshape(h.b * h.n, h.t, h.s);                      // [B·N, T, S]
        long rows = h.rowsPerChunk(SCORE_BUDGET);
        NDList chunks = new NDList();
        for (long i = 0; i < h.t; i += rows) {
            NDArray pc = rows >= h.t ? p3 : p3.get(new NDIndex(":, {}:{}", i, Math.min(h.t, i + rows))).duplicate();
            chunks.add(pc.batchMatMul(h.v3));                                  // [B·N, c, Dv]
        }
        return h.output(chunks);
    }

    /** q, kᵀ and v with the heads folded into the batch: [B·N, T, D], [B·N, D, S], [B·N, S, Dv]. */
    private record Heads(long b, long n, long t, long s, NDArray q3, NDArray kT, NDArray v3) {
        static Heads of(NDArray q, NDArray k, NDArray v) {
            Shape qs = q.getShape();
            long b = qs.get(0);
            long n = qs.get(1);
            long t = qs.get(2);
            long d = qs.get(3);
            long s = k.getShape().get(2);
            return new Heads(b, n, t, s,
                    q.reshape(b * n, t, d),
                    k.transpose(0, 1, 3, 2).reshape(b * n, d, s),             // a contiguous copy: Q·Kᵀ per chunk
                                                                              // runs 1.5× faster than on a view
                    v == null ? null : v.reshape(b * n, s, v.getShape().get(3)));
        }

        long rowsPerChunk(long budget) {
            return Math.min(t, Math.max(MIN_ROWS, budget / (b * n * s)));
        }

        /** Q·Kᵀ for query rows [i, i + rows): [B·N, c, S]. */
        NDArray scores(long i, long rows) {
            NDArray qc = rows >= t ? q3 : q3.get(new NDIndex(":, {}:{}", i, Math.min(t, i + rows)));
            return qc.batchMatMul(kT);
        }

        /** The chunks' outputs [B·N, c, Dv] → [B, N, T, Dv]. */
        NDArray output(NDList chunks) {
            NDArray o = chunks.size() == 1 ? chunks.head() : NDArrays.concat(chunks, 1);
            return o.reshape(b, n, t, o.getShape().get(2));
        }
    }
}
