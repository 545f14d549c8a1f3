package dev.unetlens.model;

import ai.djl.ndarray.NDArray;

import java.util.function.UnaryOperator;

/**
 * diffusers models/resnet.py {@code ResnetBlock2D} with {@code time_embedding_norm="default"}, no up/down
 * sampling. x [B, Cin, H, W], temb [B, Ct] or null → [B, Cout, H, W]; hook: this path. The nonlinearity (SiLU in
 * every SD model) is applied after norm1, to temb before {@code time_emb_proj}, and after norm2.
 */
public final class ResnetBlock2D extends Module {
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final Linear timeEmbProj;     // null without a time embedding (the VAE)
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d convShortcut;    // 1×1, null when in == out
    private final double outputScaleFactor;
    private final UnaryOperator<NDArray> nonlinearity;

    /**
     * @param spec channels and norm settings of this block
     */
    public ResnetBlock2D(Weights w, String path, Spec spec) {
        super(path);
        norm1 = add(new GroupNorm(w, sub("norm1"), spec.groups(), spec.in(), spec.eps()));
        conv1 = add(new Conv2d(w, sub("conv1"), spec.in(), spec.out(), 3, 1, 1));
        timeEmbProj = spec.tembChannels() > 0
                ? add(new Linear(w, sub("time_emb_proj"), spec.tembChannels(), spec.out(), true)) : null;
        norm2 = add(new GroupNorm(w, sub("norm2"), spec.groups(), spec.out(), spec.eps()));
        conv2 = add(new Conv2d(w, sub("conv2"), spec.out(), spec.out(), 3, 1, 1));
        convShortcut = spec.in() != spec.out()
                ? add(new Conv2d(w, sub("conv_shortcut"), spec.in(), spec.out(), 1, 1, 0)) : null;
        outputScaleFactor = spec.outputScaleFactor();
        nonlinearity = spec.nonlinearity();
    }

    /**
     * @param in                input channels
     * @param out               output channels
     * @param tembChannels      width of the time embedding, 0 for none
     * @param groups            GroupNorm groups
     * @param eps               GroupNorm epsilon
     * @param outputScaleFactor the output is divided by this (1 in SD)
     * @param nonlinearity      diffusers' {@code non_linearity} (the U-Net's {@code act_fn})
     */
    public record Spec(long in, long out, long tembChannels, int groups, double eps, double outputScaleFactor,
                       UnaryOperator<NDArray> nonlinearity) {
        /** A block with SiLU, as the VAE builds them. */
        public Spec(long in, long out, long tembChannels, int groups, double eps, double outputScaleFactor) {
            this(in, out, tembChannels, groups, eps, outputScaleFactor, Activations.SILU);
        }
    }

    /**
     * x [B, Cin, H, W], temb [B, Ct] or null → [B, Cout, H, W]. The scope frees each large map once the next module
     * has read it (at 512×512, in the VAE, each is 128–256 MB), and makes every module output this forward's own, so
     * the activation and the sums write over them.
     */
    public NDArray forward(NDArray x, NDArray temb) {
        NDArray out;
        try (ForwardScope scope = ForwardScope.consuming(x, temb)) {
            NDArray h = norm1.forward(x);
            h = act(h);
            h = conv1.forward(h);
            if (timeEmbProj != null) {
                NDArray t = timeEmbProj.forward(nonlinearity.apply(temb));       // [B, Cout]
                h = h.addi(t.expandDims(2).expandDims(3));                       // broadcast over H, W
            }
            h = norm2.forward(h);
            h = act(h);
            h = conv2.forward(h);                                                // dropout: inference, omitted
            NDArray skip = convShortcut == null ? x : convShortcut.forward(x);
            out = h.addi(skip);                                                  // skip + h: the same sum
            if (outputScaleFactor != 1.0) {
                out = out.divi(outputScaleFactor);
            }
            out = scope.keep(out);
        }
        return emit(x, out);
    }

    /** The nonlinearity of a norm's output h (this forward's own), written over h where the function can. */
    private NDArray act(NDArray h) {
        return nonlinearity instanceof Activations.Overwriting o ? o.overwrite(h) : nonlinearity.apply(h);
    }
}
