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
     * {@code next}, freeing {@code previous} at once if it is large (see {@link Module#release}). glibc hands blocks
     * over 32 MiB straight back to the kernel whenever they are freed, so freeing those early only lowers the peak
     * (VAE decode at 512×512: 3.7 → 2.1 GB); smaller ones come from malloc's heap, where early frees made the U-Net
     * at 64×64 batch 2 8 % slower for no RSS gain (measured), so they wait for the block's scope.
     */
    private static NDArray then(NDArray previous, NDArray next, NDArray input) {
        if (previous.size() * Float.BYTES > EARLY_FREE_BYTES) {
            release(previous, input, next);
        }
        return next;
    }

    private static final long EARLY_FREE_BYTES = 32L << 20;

    /**
     * The nonlinearity of a norm's output h, written over h where it can be: h is this block's own (listeners copy
     * what they keep) unless a hook handed back the block's input x itself.
     */
    private NDArray act(NDArray h, NDArray x) {
        if (nonlinearity instanceof Activations.Overwriting o && h != x) {
            return o.overwrite(h);
        }
        return then(h, nonlinearity.apply(h), x);
    }

    public NDArray forward(NDArray x, NDArray temb) {
        NDArray out;
        try (ForwardScope scope = new ForwardScope()) {                        // frees the intermediates on return
            NDArray h = norm1.forward(x);                                        // each map is freed once the
            h = act(h, x);                                                       // next is made: at 512×512 (the
            h = then(h, conv1.forward(h), x);                                    // VAE) each is 128–256 MB
            if (timeEmbProj != null) {
                NDArray t = timeEmbProj.forward(nonlinearity.apply(temb));       // [B, Cout]
                h = then(h, h.add(t.expandDims(2).expandDims(3)), x);            // broadcast over H, W
            }
            h = then(h, norm2.forward(h), x);
            h = act(h, x);
            h = then(h, conv2.forward(h), x);                                    // dropout: inference, omitted
            NDArray skip = convShortcut == null ? x : convShortcut.forward(x);
            out = then(h, skip.add(h), x);
            if (outputScaleFactor != 1.0) {
                out = then(out, out.div(outputScaleFactor), x);
            }
            out = scope.keep(out);
        }
        return emit(x, out);
    }
}
