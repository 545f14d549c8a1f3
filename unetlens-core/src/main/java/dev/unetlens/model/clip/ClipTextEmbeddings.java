package dev.unetlens.model.clip;

import ai.djl.ndarray.NDArray;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.model.Embedding;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;

/**
 * transformers {@code CLIPTextEmbeddings}: token embedding + position embedding (positions 0..T−1).
 * ids [B, T] (int64) → [B, T, D]; hook: this path ({@code hidden_states[0]}).
 */
public final class ClipTextEmbeddings extends Module {
    private final Embedding tokenEmbedding;
    private final Embedding positionEmbedding;

    public ClipTextEmbeddings(Weights w, String path, ClipTextConfig c) {
        super(path);
        tokenEmbedding = add(new Embedding(w, sub("token_embedding"), c.vocabSize(), c.hiddenSize()));
        positionEmbedding = add(new Embedding(w, sub("position_embedding"), c.maxPositions(), c.hiddenSize()));
    }

    @Override
    public String typeName() {
        return "CLIPTextEmbeddings";
    }

    /** The token embedding table [V, D]. */
    NDArray tokenEmbeddingTable() {
        return tokenEmbedding.weight();
    }

    public NDArray forward(NDArray ids) {
        long t = ids.getShape().get(1);
        NDArray positions = ids.getManager().arange(0, (int) t, 1, ai.djl.ndarray.types.DataType.INT64).reshape(1, t); // [1, T]
        NDArray h = tokenEmbedding.forward(ids).add(positionEmbedding.forward(positions));
        return emit(ids, h);
    }
}
