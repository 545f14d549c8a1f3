package dev.unetlens.model.clip;

import ai.djl.ndarray.NDArray;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;

import java.util.ArrayList;
import java.util.List;

/**
 * transformers {@code CLIPEncoder}: the stack of {@code layers}. x [B, T, D] → all hidden states, [0] = x and
 * [i] = output of layer i−1 (L+1 tensors of [B, T, D]); hook: this path (the last layer's output).
 */
public final class ClipEncoder extends Module {
    private final List<ClipEncoderLayer> layers = new ArrayList<>();

    public ClipEncoder(Weights w, String path, ClipTextConfig c) {
        super(path);
        for (int i = 0; i < c.layers(); i++) {
            layers.add(add(new ClipEncoderLayer(w, sub("layers." + i), c)));
        }
    }

    @Override
    public String typeName() {
        return "CLIPEncoder";
    }

    public List<NDArray> forward(NDArray x, NDArray causalMask) {
        List<NDArray> states = new ArrayList<>(layers.size() + 1);
        states.add(x);
        NDArray h = x;
        for (ClipEncoderLayer layer : layers) {
            h = layer.forward(h, causalMask);
            states.add(h);
        }
        NDArray last = emit(x, h);
        states.set(states.size() - 1, last);
        return states;
    }
}
