package dev.unetlens.model.clip;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.Activations;
import dev.unetlens.model.Linear;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;

/** transformers {@code CLIPMLP}: fc1 → quick_gelu or gelu → fc2. x [B, T, D] → [B, T, D]; hook: this path. */
public final class ClipMlp extends Module {
    private final Linear fc1;
    private final Linear fc2;
    private final boolean quickGelu;

    public ClipMlp(Weights w, String path, int dim, int intermediate, String act) {
        super(path);
        fc1 = add(new Linear(w, sub("fc1"), dim, intermediate, true));
        fc2 = add(new Linear(w, sub("fc2"), intermediate, dim, true));
        quickGelu = act.equals("quick_gelu");
    }

    @Override
    public String typeName() {
        return "CLIPMLP";
    }

    public NDArray forward(NDArray x) {
        NDArray h = fc1.forward(x);                                            // [B, T, I]
        h = quickGelu ? Activations.quickGelu(h) : Activations.gelu(h);
        return emit(x, fc2.forward(h));
    }
}
