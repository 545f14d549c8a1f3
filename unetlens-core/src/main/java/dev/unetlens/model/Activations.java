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

    /**
     * {@link #silu} written over x, for callers that no longer need x (a resnet's norm output): one map fewer at the
     * peak — at 512×512 in the VAE that is 128–256 MB. The same numbers: x is negated in place for exp(−x) and back
     * (negation is exact), then divided in place.
     */
    public static NDArray siluOverwrite(NDArray x) {
        x.negi();
        NDArray denominator = x.exp();                                           // exp(−x)
        x.negi();
        denominator.addi(1f);
        x.divi(denominator);
        denominator.close();
        return x;
    }

    /** SiLU as a function that may write over its input: see {@link Overwriting}. */
    public static final Overwriting SILU = new Overwriting() {
        @Override
        public NDArray apply(NDArray x) {
            return silu(x);
        }

        @Override
        public NDArray overwrite(NDArray x) {
            return siluOverwrite(x);
        }
    };

    /** An elementwise activation that can also write its result over its input. */
    public interface Overwriting extends java.util.function.UnaryOperator<NDArray> {
        /** The activation of x, written into x; x's old values are lost. */
        NDArray overwrite(NDArray x);
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
