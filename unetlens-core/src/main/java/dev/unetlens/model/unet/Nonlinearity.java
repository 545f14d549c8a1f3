package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import dev.unetlens.config.UNetConfig.ActFn;
import dev.unetlens.model.Activations;
import dev.unetlens.model.Module;

import java.util.function.UnaryOperator;

/**
 * A parameter-free activation module of diffusers' {@code get_activation} ({@code conv_act},
 * {@code time_embedding.act}): torch's SiLU, Mish, GELU (exact erf form) or ReLU. x [...] → [...]; hook: this path,
 * with the torch class ({@code SiLU}) as its class name.
 */
public final class Nonlinearity extends Module {
    private final ActFn fn;
    private final UnaryOperator<NDArray> function;

    public Nonlinearity(String path, ActFn fn) {
        super(path);
        this.fn = fn;
        this.function = function(fn);
    }

    /** The function itself, for modules that apply it without a module of its own (the resnets). */
    public static UnaryOperator<NDArray> function(ActFn fn) {
        return switch (fn) {
            case SILU -> Activations.SILU;
            case MISH -> x -> x.mul(Activation.softPlus(x).tanh());   // not DJL's mish, which takes log2
            case GELU -> Activations::gelu;
            case RELU -> Activation::relu;
        };
    }

    @Override
    public String typeName() {
        return fn.torchClass();
    }

    public NDArray forward(NDArray x) {
        return emit(x, function.apply(x));
    }
}
