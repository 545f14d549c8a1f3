package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.unetlens.model.Linear;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;

import static dev.unetlens.model.Activations.gelu;

/**
 * diffusers activations.py {@code GEGLU}: {@code proj} to 2·F channels, split into halves a, g (first, second),
 * output a·gelu(g) with the exact erf GELU. x [B, T, I] → [B, T, F]; hook: this path ({@code ff.net.0}).
 */
public final class GEGLU extends Module {
    private final Linear proj;

    public GEGLU(Weights w, String path, long in, long out) {
        super(path);
        proj = add(new Linear(w, sub("proj"), in, 2 * out, true));
    }

    public NDArray forward(NDArray x) {
        NDArray p = proj.forward(x);                                            // [B, T, 2F]
        NDList halves = p.split(2, p.getShape().dimension() - 1);               // 2 × [B, T, F]
        return emit(x, gelu(halves.get(1)).muli(halves.get(0)));             // a·gelu(g), into gelu's fresh output
    }

    long[] shapes(ShapeSink s, long[] x, long out) {
        s.put(proj, x[0], x[1], 2 * out);
        return s.put(this, x[0], x[1], out);
    }
}
