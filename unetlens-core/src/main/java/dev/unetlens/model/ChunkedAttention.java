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
 * <p>A chunk is the same whatever the batch: {@code rows} query rows of one batch element's N heads (as many rows as
 * fit the budget for N heads), or of several whole batch elements where the budget holds more. Batch 2 (every CFG
 * step) thus runs batch 1's products twice; chunking the rows of all B·N heads at once instead gave it half as many
 * rows per product over twice the keys and values, and the self-attention at 4096 tokens cost 2.25× batch 1's.
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
        Chunks c = h.chunks(budget);
        NDList groups = new NDList();
        for (long g = 0; g < h.b * h.n; g += c.heads) {
            NDList chunks = new NDList();
            for (long i = 0; i < h.t; i += c.rows) {
                try (ForwardScope scope = new ForwardScope()) {                // frees the chunk's scores
                    NDArray p = h.scores(g, c.heads, i, c.rows).muli(scale).softmax(-1); // [g, c, S], unseen
                    chunks.add(scope.keep(p.batchMatMul(h.v(g, c.heads))));   // [g, c, Dv]
                }
            }
            groups.add(concat(chunks, 1));
        }
        return h.output(groups);
    }

    /**
     * The probabilities softmax(Q·Kᵀ·scale) [B, N, T, S], all of them, computed chunk by chunk exactly as
     * {@link #attend} computes them, so that a run that looks at them gives bit for bit the output of one that does
     * not.
     */
    static NDArray probs(NDArray q, NDArray k, float scale) {
        Heads h = Heads.of(q, k, null);
        Chunks c = h.chunks(SCORE_BUDGET);
        NDList groups = new NDList();
        for (long g = 0; g < h.b * h.n; g += c.heads) {
            NDList chunks = new NDList();
            for (long i = 0; i < h.t; i += c.rows) {
                chunks.add(h.scores(g, c.heads, i, c.rows).muli(scale).softmax(-1)); // [g, c, S]
            }
            groups.add(concat(chunks, 1));
        }
        return concat(groups, 0).reshape(h.b, h.n, h.t, h.s);                // [B·N, T, S] → [B, N, T, S]
    }

    /** probs [B, N, T, S] · v [B, N, S, Dv] → [B, N, T, Dv], in the chunks of {@link #attend}. */
    static NDArray mix(NDArray probs, NDArray v) {
        Shape ps = probs.getShape();
        Heads h = new Heads(ps.get(0), ps.get(1), ps.get(2), ps.get(3), null, null,
                v.reshape(ps.get(0) * ps.get(1), ps.get(3), v.getShape().get(3)));
        NDArray p3 = probs.reshape(h.b * h.n, h.t, h.s);                      // [B·N, T, S]
        Chunks c = h.chunks(SCORE_BUDGET);
        NDList groups = new NDList();
        for (long g = 0; g < h.b * h.n; g += c.heads) {
            NDList chunks = new NDList();
            for (long i = 0; i < h.t; i += c.rows) {
                NDArray pc = c.rows >= h.t && c.heads >= h.b * h.n ? p3 : p3.get(new NDIndex("{}:{}, {}:{}", g,
                        Math.min(h.b * h.n, g + c.heads), i, Math.min(h.t, i + c.rows))).duplicate();
                chunks.add(pc.batchMatMul(h.v(g, c.heads)));                  // [g, c, Dv]
            }
            groups.add(concat(chunks, 1));
        }
        return h.output(groups);
    }

    /** A chunk: {@code heads} of the B·N (whole batch elements), {@code rows} query rows. */
    private record Chunks(long heads, long rows) {
    }

    private static NDArray concat(NDList parts, int axis) {
        return parts.size() == 1 ? parts.head() : NDArrays.concat(parts, axis);
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

        /**
         * The chunks for a score budget: the rows of one batch element's N heads that fit it (at least
         * {@link #MIN_ROWS}), and as many whole batch elements' heads as fit with them.
         */
        Chunks chunks(long budget) {
            long rows = Math.min(t, Math.max(MIN_ROWS, budget / (n * s)));
            long elements = Math.max(1, Math.min(b, budget / (rows * n * s)));
            return new Chunks(elements * n, rows);
        }

        /** Q·Kᵀ of heads [g, g + heads) for query rows [i, i + rows): [heads, c, S]. */
        NDArray scores(long g, long heads, long i, long rows) {
            boolean allHeads = heads >= b * n;
            NDArray qc = rows >= t && allHeads ? q3 : q3.get(new NDIndex("{}:{}, {}:{}", g, Math.min(b * n, g + heads),
                    i, Math.min(t, i + rows)));
            return qc.batchMatMul(allHeads ? kT : kT.get(new NDIndex("{}:{}", g, Math.min(b * n, g + heads))));
        }

        /** V of heads [g, g + heads): [heads, S, Dv]. */
        NDArray v(long g, long heads) {
            return heads >= b * n ? v3 : v3.get(new NDIndex("{}:{}", g, Math.min(b * n, g + heads)));
        }

        /** The groups' outputs [heads, T, Dv] → [B, N, T, Dv]. */
        NDArray output(NDList groups) {
            NDArray o = concat(groups, 0);
            return o.reshape(b, n, t, o.getShape().get(2));
        }
    }
}
