package dev.unetlens.model.clip;

import ai.djl.ndarray.NDArray;

import java.util.List;

/**
 * What a CLIP text encoder returns.
 *
 * @param lastHiddenState [B, T, D] after the final LayerNorm (SD 1.x/2.x prompt embeddings)
 * @param hiddenStates    L+1 tensors [B, T, D]: [0] embeddings, [i] output of layer i, no final LayerNorm
 * @param pooled          [B, D] last_hidden_state at the first end token
 * @param textEmbeds      [B, P] {@code text_projection(pooled)} for CLIPTextModelWithProjection, else null
 */
public record ClipTextOutput(NDArray lastHiddenState, List<NDArray> hiddenStates, NDArray pooled, NDArray textEmbeds) {
    public ClipTextOutput {
        hiddenStates = List.copyOf(hiddenStates);
    }

    /** {@code hidden_states[-k]}: k = 1 is the last layer's output, k = 2 the penultimate (clip skip). */
    public NDArray hiddenStateFromEnd(int k) {
        return hiddenStates.get(hiddenStates.size() - k);
    }

    public ClipTextOutput withTextEmbeds(NDArray embeds) {
        return new ClipTextOutput(lastHiddenState, hiddenStates, pooled, embeds);
    }
}
