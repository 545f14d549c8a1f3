package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/** The activation functions the SD components use, as in torch. */
public final class Activations {
    private Activations() {
    }

    /**
     * SiLU / swish, in torch's own arithmetic ({@code silu_kernel}: x / (1 + exp(−x)), one rounding fewer than
     * x·σ(x)); over the ~100 applications in a U-Net this keeps results measurably closer to diffusers.
     */
    public static NDArray silu(NDArray x) {
        NDArray minus = x.neg();
        NDArray denominator = minus.exp();
        minus.close();
        denominator.addi(1f);                                                    // 1 + exp(−x), in place
        NDArray y = x.div(denominator);
        denominator.close();                                                     // only y outlives the call
        return y;
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
