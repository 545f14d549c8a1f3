package dev.unetlens.model.vae;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.Attention;
import dev.unetlens.model.Module;
import dev.unetlens.model.ResnetBlock2D;
import dev.unetlens.model.Weights;

/**
 * diffusers unets/unet_2d_blocks.py {@code UNetMidBlock2D} as the VAE uses it: resnet → single-head self-attention
 * over all positions (GroupNorm first, residual after) → resnet, no time embedding.
 * x [B, C, H, W] → [B, C, H, W]; hook: this path.
 */
public final class UNetMidBlock2D extends Module {
    private final ResnetBlock2D resnet0;
    private final Attention attention;   // null when mid_block_add_attention is false
    private final ResnetBlock2D resnet1;

    public UNetMidBlock2D(Weights w, String path, long channels, int groups, boolean addAttention) {
        super(path);
        ResnetBlock2D.Spec spec = new ResnetBlock2D.Spec(channels, channels, 0, groups, AutoencoderKL.EPS, 1.0);
        attention = addAttention ? add(new Attention(w, sub("attentions.0"),
                new Attention.Spec(channels, channels, 1, channels, true, groups, AutoencoderKL.EPS, false))) : null;
        resnet0 = add(new ResnetBlock2D(w, sub("resnets.0"), spec));
        resnet1 = add(new ResnetBlock2D(w, sub("resnets.1"), spec));
    }

    public NDArray forward(NDArray x) {
        NDArray h = resnet0.forward(x, null);
        if (attention != null) {
            h = attention.forward(h);
        }
        return emit(x, resnet1.forward(h, null));
    }
}
