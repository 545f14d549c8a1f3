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
 * <p>In bf16 ({@link Bf16}, a bf16 model's attention) the two products run in bfloat16 — q, kᵀ and v cast once, each
 * chunk's probabilities cast before P·V, both products widened to float32 — and the scaling and softmax stay float32
 * (softmax gains nothing in bf16: 0.99×, {@code bench-reference/bf16-kernels}). {@link #probs} and {@link #mix} do
 * the same, so looking at the probabilities still changes no bit of the output.
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
        return attend(q, k, v, scale, SCORE_BUDGET, false);
    }

    /** {@link #attend}, its products in bf16 if {@code bf16}. */
    static NDArray attend(NDArray q, NDArray k, NDArray v, float scale, boolean bf16) {
        return attend(q, k, v, scale, SCORE_BUDGET, bf16);
    }

    /** {@link #attend} with another chunk budget (tests). */
    static NDArray attend(NDArray q, NDArray k, NDArray v, float scale, long budget) {
        return attend(q, k, v, scale, budget, false);
    }

    static NDArray attend(NDArray q, NDArray k, NDArray v, float scale, long budget, boolean bf16) {
        Heads h = Heads.of(q, k, v, bf16);
        Chunks c = h.chunks(budget);
        return h.eachChunk(c, (g, i) -> {
            try (ForwardScope scope = new ForwardScope()) {                    // frees the chunk's scores
                NDArray p = h.scores(g, c.heads, i, c.rows).muli(scale).softmax(-1); // [g, c, S], unseen
                return scope.keep(h.product(h.operand(p), h.v(g, c.heads))); // [g, c, Dv]
            }
        });
    }

    /**
     * The probabilities softmax(Q·Kᵀ·scale) [B, N, T, S], all of them, computed chunk by chunk exactly as
     * {@link #attend} computes them, so that a run that looks at them gives bit for bit the output of one that does
     * not.
     */
    static NDArray probs(NDArray q, NDArray k, float scale) {
        return probs(q, k, scale, false);
    }

    /** {@link #probs}, Q·Kᵀ in bf16 if {@code bf16} (as {@link #attend} takes it). */
    static NDArray probs(NDArray q, NDArray k, float scale, boolean bf16) {
        Heads h = Heads.of(q, k, null, bf16);
        Chunks c = h.chunks(SCORE_BUDGET);
        return h.eachChunk(c, (g, i) -> h.scores(g, c.heads, i, c.rows).muli(scale).softmax(-1)); // [g, c, S]
    }

    /** probs [B, N, T, S] · v [B, N, S, Dv] → [B, N, T, Dv], in the chunks of {@link #attend}. */
    static NDArray mix(NDArray probs, NDArray v) {
        return mix(probs, v, false);
    }

    /** {@link #mix}, P·V in bf16 if {@code bf16} (as {@link #attend} takes it). */
    static NDArray mix(NDArray probs, NDArray v, boolean bf16) {
        return mix(probs, null, v, bf16);
    }

    /**
     * (changed − probs)·v, both [B, N, T, S], in the chunks of {@link #mix}: what a listener's changed probabilities
     * add to a kernel's output — exact zeros where they equal probs.
     */
    static NDArray mixDifference(NDArray changed, NDArray probs, NDArray v, boolean bf16) {
        return mix(changed, probs, v, bf16);
    }

    /** (probs − minus)·v chunk by chunk, each chunk's copy or difference freed once used; minus null: probs·v. */
    private static NDArray mix(NDArray probs, NDArray minus, NDArray v, boolean bf16) {
        Shape ps = probs.getShape();
        NDArray v3 = v.reshape(ps.get(0) * ps.get(1), ps.get(3), v.getShape().get(3));
        Heads h = new Heads(ps.get(0), ps.get(1), ps.get(2), ps.get(3), null, null, bf16 ? Bf16.of(v3) : v3, bf16);
        NDArray p3 = probs.reshape(h.b * h.n, h.t, h.s);                      // [B·N, T, S]
        NDArray m3 = minus == null ? null : minus.reshape(h.b * h.n, h.t, h.s);
        Chunks c = h.chunks(SCORE_BUDGET);
        boolean whole = c.rows >= h.t && c.heads >= h.b * h.n;
        return h.eachChunk(c, (g, i) -> {
            try (ForwardScope scope = new ForwardScope()) {                    // frees the chunk's copy once used
                NDIndex at = new NDIndex("{}:{}, {}:{}", g, Math.min(h.b * h.n, g + c.heads), i, Math.min(h.t, i + c.rows));
                NDArray pc = m3 != null ? p3.get(at).sub(m3.get(at)) : whole ? p3 : p3.get(at).duplicate();
                return scope.keep(h.product(h.operand(pc), h.v(g, c.heads)));  // [g, c, Dv]
            }
        });
    }

    /** A chunk: {@code heads} of the B·N (whole batch elements), {@code rows} query rows. */
    private record Chunks(long heads, long rows) {
    }

    /** What one chunk computes: heads [g, g + heads), query rows [i, i + rows) → [heads, rows, ·]. */
    private interface ChunkWork {
        NDArray at(long g, long i);
    }

    private static NDArray concat(NDList parts, int axis) {
        return parts.size() == 1 ? parts.head() : NDArrays.concat(parts, axis);
    }

    /**
     * q, kᵀ and v with the heads folded into the batch: [B·N, T, D], [B·N, D, S], [B·N, S, Dv]; in bf16 (cast once)
     * when {@code bf16}.
     */
    private record Heads(long b, long n, long t, long s, NDArray q3, NDArray kT, NDArray v3, boolean bf16) {
        static Heads of(NDArray q, NDArray k, NDArray v, boolean bf16) {
            Shape qs = q.getShape();
            long b = qs.get(0);
            long n = qs.get(1);
            long t = qs.get(2);
            long d = qs.get(3);
            long s = k.getShape().get(2);
            NDArray q3 = q.reshape(b * n, t, d);
            NDArray kT = k.transpose(0, 1, 3, 2).reshape(b * n, d, s);        // a contiguous copy: Q·Kᵀ per chunk
                                                                              // runs 1.5× faster than on a view
            NDArray v3 = v == null ? null : v.reshape(b * n, s, v.getShape().get(3));
            if (!bf16) {
                return new Heads(b, n, t, s, q3, kT, v3, false);
            }
            return new Heads(b, n, t, s, Bf16.of(q3), Bf16.of(kT), v3 == null ? null : Bf16.of(v3), true);
        }

        /** A float32 factor in the heads' arithmetic: cast to bf16 when they are bf16. */
        NDArray operand(NDArray a) {
            return bf16 ? Bf16.of(a) : a;
        }

        /** a · b of two factors in the heads' arithmetic, as float32 (a bf16 product widened). */
        NDArray product(NDArray a, NDArray b) {
            return bf16 ? Bf16.widen(a.batchMatMul(b)) : a.batchMatMul(b);
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
            return product(qc, allHeads ? kT : kT.get(new NDIndex("{}:{}", g, Math.min(b * n, g + heads))));
        }

        /** V of heads [g, g + heads): [heads, S, Dv]. */
        NDArray v(long g, long heads) {
            return heads >= b * n ? v3 : v3.get(new NDIndex("{}:{}", g, Math.min(b * n, g + heads)));
        }

        /**
         * {@code work} over every chunk (head groups in order, query rows in order within each), the results put
         * together: [B·N, T, X] → [B, N, T, X].
         */
        NDArray eachChunk(Chunks c, ChunkWork work) {
            NDList groups = new NDList();
            for (long g = 0; g < b * n; g += c.heads) {
                NDList rowBlocks = new NDList();
                for (long i = 0; i < t; i += c.rows) {
                    rowBlocks.add(work.at(g, i));
                }
                groups.add(concat(rowBlocks, 1));
            }
            NDArray o = concat(groups, 0);
            return o.reshape(b, n, t, o.getShape().get(2));
        }
    }
}
