package dev.unetlens.model.unet;

import dev.unetlens.config.UNetConfig;
import dev.unetlens.config.UNetConfig.ActFn;
import dev.unetlens.model.ResnetBlock2D;

import java.util.List;

/**
 * The arguments diffusers' {@code get_down_block} / {@code get_mid_block} / {@code get_up_block} pass to one block,
 * resolved from the config by {@link #down}, {@link #mid} and {@link #up} exactly as
 * {@code UNet2DConditionModel.__init__} does.
 *
 * @param in                 Cin: down blocks' input channels; up blocks' skip channels of their last resnet
 * @param out                Cout
 * @param prevOut            up blocks: channels of the hidden states coming from below; else = in
 * @param tembChannels       Ct
 * @param layers             resnets (and attentions) in the block
 * @param transformerLayers  depth of each attention's Transformer2DModel (one per layer)
 * @param heads              N
 * @param crossAttentionDim  Dc
 * @param resample           whether the block ends with a downsampler / upsampler
 * @param groups             GroupNorm groups
 * @param eps                resnets' GroupNorm epsilon
 * @param act                resnets' nonlinearity
 * @param outputScaleFactor  resnets divide their output by this (mid_block_scale_factor in the mid block, else 1:
 *                           diffusers does not pass resnet_out_scale_factor to these block types)
 * @param linearProjection   Transformer2DModel proj_in / proj_out are Linear
 * @param downsamplePadding  the downsampler's padding
 */
record BlockArgs(long in, long out, long prevOut, long tembChannels, int layers, List<Integer> transformerLayers,
                 int heads, long crossAttentionDim, boolean resample, int groups, double eps, ActFn act,
                 double outputScaleFactor, boolean linearProjection, int downsamplePadding) {

    BlockArgs {
        transformerLayers = List.copyOf(transformerLayers);
    }

    /** A resnet of this block. */
    ResnetBlock2D.Spec resnet(long resnetIn, long resnetOut) {
        return new ResnetBlock2D.Spec(resnetIn, resnetOut, tembChannels, groups, eps, outputScaleFactor,
                Nonlinearity.function(act));
    }

    /** down_blocks.i: input channels C(i−1) (C0 for the first), output Ci. */
    static BlockArgs down(UNetConfig c, int i) {
        List<Integer> ch = c.blockOutChannels();
        return new BlockArgs(ch.get(Math.max(0, i - 1)), ch.get(i), ch.get(Math.max(0, i - 1)),
                c.time().embedDim(), c.layersPerBlock().get(i), c.attention().downLayers().get(i),
                c.downHeads(i), c.downCrossAttentionDim(i), i < c.levels() - 1, c.normNumGroups(), c.normEps(),
                c.actFn(), 1.0, c.attention().useLinearProjection(), c.downsamplePadding());
    }

    /** mid_block: C(n−1) channels, one attention between two resnets. */
    static BlockArgs mid(UNetConfig c) {
        long ch = c.blockOutChannels().getLast();
        return new BlockArgs(ch, ch, ch, c.time().embedDim(), 1, List.of(c.attention().midLayers()), c.midHeads(),
                c.midCrossAttentionDim(), false, c.normNumGroups(), c.normEps(), c.actFn(), c.midBlockScaleFactor(),
                c.attention().useLinearProjection(), c.downsamplePadding());
    }

    /**
     * up_blocks.i, over the reversed channels R = C(n−1) … C0: output R[i], hidden from below R[i−1] (R[0] for
     * the first), skips of R[i] except the last resnet's, which is R[i+1] (the level above's downsampler output, or
     * conv_in's C0).
     */
    static BlockArgs up(UNetConfig c, int i) {
        List<Integer> rev = c.blockOutChannels().reversed();
        int n = rev.size();
        return new BlockArgs(rev.get(Math.min(i + 1, n - 1)), rev.get(i), rev.get(Math.max(0, i - 1)),
                c.time().embedDim(), c.upLayers(i), c.attention().upLayers().get(i), c.upHeads(i),
                c.upCrossAttentionDim(i), i < n - 1, c.normNumGroups(), c.normEps(), c.actFn(), 1.0,
                c.attention().useLinearProjection(), c.downsamplePadding());
    }
}
