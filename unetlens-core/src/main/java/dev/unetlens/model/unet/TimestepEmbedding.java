package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import dev.unetlens.config.UNetConfig.ActFn;
import dev.unetlens.model.Linear;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;

/**
 * diffusers embeddings.py {@code TimestepEmbedding}: linear_1 → act → linear_2 [→ post_act]. x [N, Cin] → [N, Ct];
 * hook: this path ({@code time_embedding}, SDXL's {@code add_embedding}).
 */
public final class TimestepEmbedding extends Module {
    private final Linear linear1;
    private final Nonlinearity act;
    private final Linear linear2;
    private final Nonlinearity postAct;   // timestep_post_act, null in every SD model

    /**
     * @param in      width of the input features
     * @param dim     Ct, width of both linears' outputs
     * @param act     the nonlinearity between them
     * @param postAct the nonlinearity after linear_2, or null
     */
    public TimestepEmbedding(Weights w, String path, long in, long dim, ActFn act, ActFn postAct) {
        super(path);
        linear1 = add(new Linear(w, sub("linear_1"), in, dim, true));
        this.act = add(new Nonlinearity(sub("act"), act));
        linear2 = add(new Linear(w, sub("linear_2"), dim, dim, true));
        this.postAct = postAct == null ? null : add(new Nonlinearity(sub("post_act"), postAct));
    }

    public NDArray forward(NDArray x) {
        NDArray h = linear2.forward(act.forward(linear1.forward(x)));          // [N, Ct]
        if (postAct != null) {
            h = postAct.forward(h);
        }
        return emit(x, h);
    }

    long[] shapes(ShapeSink s, long n, long dim) {
        s.put(linear1, n, dim);
        s.put(act, n, dim);
        s.put(linear2, n, dim);
        if (postAct != null) {
            s.put(postAct, n, dim);
        }
        return s.put(this, n, dim);
    }
}
