package dev.unetlens.model;

import ai.djl.ndarray.NDArray;

/** torch.nn.Embedding: ids [B, T] (int64) → rows of the table [B, T, D]. */
public final class Embedding extends Module {
    private final NDArray weight;   // [V, D]

    public Embedding(Weights w, String path, long count, long dim) {
        super(path);
        this.weight = w.take(sub("weight"), count, dim);
    }

    public NDArray forward(NDArray ids) {
        NDArray rows = ids.getNDArrayInternal()
                .embedding(ids, weight, ai.djl.ndarray.types.SparseFormat.DENSE).singletonOrThrow();
        return emit(ids, rows);
    }

    /** The table itself, [V, D]. */
    public NDArray weight() {
        return weight;
    }
}
