package dev.unetlens.model.clip;

import ai.djl.ndarray.NDArray;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.model.LayerNorm;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;

/**
 * transformers {@code CLIPEncoderLayer}, pre-LN: h += self_attn(layer_norm1(h)); h += mlp(layer_norm2(h)).
 * x [B, T, D] → [B, T, D]; hook: this path ({@code hidden_states[i+1]} of the encoder).
 */
public final class ClipEncoderLayer extends Module {
    private final LayerNorm layerNorm1;
    private final ClipAttention selfAttn;
    private final LayerNorm layerNorm2;
    private final ClipMlp mlp;

    public ClipEncoderLayer(Weights w, String path, ClipTextConfig c) {
        super(path);
        selfAttn = add(new ClipAttention(w, sub("self_attn"), c.hiddenSize(), c.heads()));
        layerNorm1 = add(new LayerNorm(w, sub("layer_norm1"), c.hiddenSize(), c.layerNormEps()));
        mlp = add(new ClipMlp(w, sub("mlp"), c.hiddenSize(), c.intermediateSize(), c.hiddenAct()));
        layerNorm2 = add(new LayerNorm(w, sub("layer_norm2"), c.hiddenSize(), c.layerNormEps()));
    }

    @Override
    public String typeName() {
        return "CLIPEncoderLayer";
    }

    public NDArray forward(NDArray x, NDArray causalMask) {
        NDArray out = scoped(() -> {                                           // frees the layer's intermediates
            NDArray h = x.add(selfAttn.forward(layerNorm1.forward(x), causalMask));
            return h.add(mlp.forward(layerNorm2.forward(h)));
        });
        return emit(x, out);
    }
}
