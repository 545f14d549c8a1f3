package dev.unetlens.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.Conv2d;
import dev.unetlens.model.HookTable;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers {@code AutoencoderKL}: images in [−1, 1] ⇄ latents. encode: encoder → quant_conv → posterior;
 * decode: post_quant_conv → decoder. Scaling by {@link #scalingFactor()} is the pipelines' business, as in
 * diffusers: latents = scalingFactor · z, and decode(latents / scalingFactor).
 */
public final class AutoencoderKL extends Module {
    /** The GroupNorm epsilon diffusers hard-codes in the VAE. */
    static final double EPS = 1e-6;

    private final VaeConfig config;
    private final Encoder encoder;
    private final Decoder decoder;
    private final Conv2d quantConv;       // null if use_quant_conv is false
    private final Conv2d postQuantConv;   // null if use_post_quant_conv is false
    private final HookTable hooks;

    public AutoencoderKL(Weights w, VaeConfig c) {
        super("");
        config = c;
        encoder = add(new Encoder(w, sub("encoder"), c));
        decoder = add(new Decoder(w, sub("decoder"), c));
        long l = c.latentChannels();
        quantConv = c.useQuantConv() ? add(new Conv2d(w, sub("quant_conv"), 2 * l, 2 * l, 1, 1, 0)) : null;
        postQuantConv = c.usePostQuantConv() ? add(new Conv2d(w, sub("post_quant_conv"), l, l, 1, 1, 0)) : null;
        hooks = new HookTable(this);
    }

    /** Builds the VAE from {@code source}, failing on any missing, wrongly shaped or unused tensor. */
    public static AutoencoderKL load(TensorSource source, VaeConfig config, NDManager manager) {
        return Weights.load(source, manager, "vae", k -> false, w -> new AutoencoderKL(w, config));
    }

    public VaeConfig config() {
        return config;
    }

    public HookTable hooks() {
        return hooks;
    }

    public double scalingFactor() {
        return config.scalingFactor();
    }

    /**
     * Every hook point's shape, from the config: the encoder's for encoding {@code batch} images of
     * {@code height} × {@code width} pixels, the decoder's for decoding their latents (no weights are read).
     */
    public List<dev.unetlens.model.unet.HookShape> shapes(long batch, long height, long width) {
        return VaeShapes.of(this, batch, height, width);
    }

    /**
     * The stages of the encoder ({@code conv_in}, each down block, the mid block, {@code conv_norm_out} before its
     * SiLU, {@code conv_out}, {@code quant_conv} if any): what a walk through it shows, in order.
     */
    public List<String> encoderStages() {
        List<String> out = new ArrayList<>(List.of("encoder.conv_in"));
        for (int i = 0; i < config.blockOutChannels().size(); i++) {
            out.add("encoder.down_blocks." + i);
        }
        out.addAll(List.of("encoder.mid_block", "encoder.conv_norm_out", "encoder.conv_out"));
        if (quantConv != null) {
            out.add("quant_conv");
        }
        return out;
    }

    /** The stages of the decoder ({@code post_quant_conv} if any, {@code conv_in}, mid, each up block, norm, out). */
    public List<String> decoderStages() {
        List<String> out = new ArrayList<>();
        if (postQuantConv != null) {
            out.add("post_quant_conv");
        }
        out.addAll(List.of("decoder.conv_in", "decoder.mid_block"));
        for (int i = 0; i < config.blockOutChannels().size(); i++) {
            out.add("decoder.up_blocks." + i);
        }
        out.addAll(List.of("decoder.conv_norm_out", "decoder.conv_out"));
        return out;
    }

    /** How many times the encoder halves H and W (8 for SD). */
    public int downscale() {
        return 1 << (config.blockOutChannels().size() - 1);
    }

    /** The moments {@code quant_conv(encoder(x))}: x [B, 3, H, W] in [−1, 1] → [B, 2L, H/f, W/f]. */
    public NDArray encodeMoments(NDArray x) {
        NDArray h = encoder.forward(x);
        return quantConv == null ? h : quantConv.forward(h);
    }

    /** The posterior over z for images x [B, 3, H, W] in [−1, 1]. */
    public DiagonalGaussian encode(NDArray x) {
        return DiagonalGaussian.of(encodeMoments(x));
    }

    /** Images [B, 3, H, W] (unclamped, nominally [−1, 1]) from z [B, L, h, w] (not scaled). */
    public NDArray decode(NDArray z) {
        NDArray h = postQuantConv == null ? z : postQuantConv.forward(z);
        return decoder.forward(h);
    }
}
