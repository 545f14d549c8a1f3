package dev.unetlens.model.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.model.LayerNorm;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;

import java.util.List;

/**
 * transformers {@code CLIPTextTransformer} ({@code text_model}): embeddings → causal encoder → final LayerNorm.
 * ids [B, T] → {@link ClipTextOutput} without projection; hook: this path (last_hidden_state).
 */
public final class ClipTextTransformer extends Module {
    private final ClipTextEmbeddings embeddings;
    private final ClipEncoder encoder;
    private final LayerNorm finalLayerNorm;
    private final long eosTokenId;

    public ClipTextTransformer(Weights w, String path, ClipTextConfig c) {
        super(path);
        embeddings = add(new ClipTextEmbeddings(w, sub("embeddings"), c));
        encoder = add(new ClipEncoder(w, sub("encoder"), c));
        finalLayerNorm = add(new LayerNorm(w, sub("final_layer_norm"), c.hiddenSize(), c.layerNormEps()));
        eosTokenId = c.eosTokenId();
    }

    @Override
    public String typeName() {
        return "CLIPTextTransformer";
    }

    public ClipTextOutput forward(NDArray ids) {
        long t = ids.getShape().get(1);
        NDArray h = embeddings.forward(ids);                                   // [B, T, D]
        List<NDArray> states = encoder.forward(h, causalMask(ids.getManager(), t));
        NDArray last = emit(ids, finalLayerNorm.forward(states.getLast()));    // [B, T, D]
        return new ClipTextOutput(last, states, pool(last, ids), null);
    }

    NDArray tokenEmbeddingTable() {
        return embeddings.tokenEmbeddingTable();
    }

    /** final_layer_norm alone (no hook of this module fires). */
    NDArray finalLayerNorm(NDArray hidden) {
        return finalLayerNorm.forward(hidden);
    }

    /** float32 min above the diagonal, 0 elsewhere: [T, T]. */
    private static NDArray causalMask(NDManager m, long t) {
        float[] mask = new float[(int) (t * t)];
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < t; j++) {
                mask[(int) (i * t + j)] = -Float.MAX_VALUE;
            }
        }
        return m.create(mask, new Shape(t, t));
    }

    /**
     * The pooled output: last_hidden_state at each row's end token. transformers' rule: with
     * {@code eos_token_id == 2} (old configs) the position of the largest id, else the first position of
     * {@code eos_token_id}; both are the first {@code <|endoftext|>} of CLIP token ids.
     */
    private NDArray pool(NDArray last, NDArray ids) {
        long[] id = ids.toType(DataType.INT64, false).toLongArray();
        int b = (int) ids.getShape().get(0);
        int t = (int) ids.getShape().get(1);
        long[] at = new long[b];
        for (int r = 0; r < b; r++) {
            at[r] = pooledPosition(java.util.Arrays.copyOfRange(id, r * t, (r + 1) * t));
        }
        NDArray rows = last.getManager().arange(0, b, 1, DataType.INT64);
        NDArray cols = last.getManager().create(at);
        return last.get(new ai.djl.ndarray.index.NDIndex("{}, {}", rows, cols));   // [B, D]
    }

    /** The position of one row of ids [T] that the pooled output is taken from (see {@link #pool}). */
    int pooledPosition(long[] id) {
        int best = 0;
        for (int i = 0; i < id.length; i++) {
            boolean better = eosTokenId == 2 ? id[i] > id[best] : id[i] == eosTokenId;
            if (better) {
                best = i;
                if (eosTokenId != 2) {
                    break;
                }
            }
        }
        return best;
    }
}
