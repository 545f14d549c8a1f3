package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/** The activation functions the SD components use, as in torch. */
public final class Activations {
    private Activations() {
    }

    /** SiLU / swish: x·σ(x). */
    public static NDArray silu(NDArray x) {
        return x.mul(Activation.sigmoid(x));
    }

    /** GELU, exact erf form: x·Φ(x). */
    public static NDArray gelu(NDArray x) {
        return Activation.gelu(x);
    }

    /** CLIP's quick GELU: x·σ(1.702·x). */
    public static NDArray quickGelu(NDArray x) {
        return x.mul(Activation.sigmoid(x.mul(1.702f)));
    }
}
