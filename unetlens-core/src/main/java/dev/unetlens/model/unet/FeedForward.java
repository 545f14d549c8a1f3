package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.Linear;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;

/**
 * diffusers attention.py {@code FeedForward} with {@code activation_fn="geglu"}, mult 4: {@code net.0} GEGLU to
 * F = 4·I channels, ({@code net.1} dropout, omitted), {@code net.2} Linear back to I. x [B, T, I] → [B, T, I];
 * hook: this path.
 */
public final class FeedForward extends Module {
    private static final int MULT = 4;
    private final GEGLU net0;
    private final Linear net2;
    private final long inner;

    public FeedForward(Weights w, String path, long dim) {
        super(path);
        inner = MULT * dim;
        net0 = add(new GEGLU(w, sub("net.0"), dim, inner));
        net2 = add(new Linear(w, sub("net.2"), inner, dim, true));
    }

    public NDArray forward(NDArray x) {
        NDArray out;
        try (ForwardScope scope = new ForwardScope()) {                        // frees [B, T, 2F] and [B, T, F]
            out = scope.keep(net2.forward(net0.forward(x)));                   // [B, T, F] → [B, T, I]
        }
        return emit(x, out);
    }

    long[] shapes(ShapeSink s, long[] x) {
        net0.shapes(s, x, inner);
        s.put(net2, x);
        return s.put(this, x);
    }
}
