package dev.unetlens.config;

import dev.unetlens.Messages;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * diffusers {@code AutoencoderKL} config, the fields that change its numbers, with diffusers' defaults.
 *
 * @param inChannels          image channels (3)
 * @param outChannels         decoded channels (3)
 * @param blockOutChannels    channels of each encoder level (the decoder mirrors them)
 * @param layersPerBlock      resnets per encoder level (the decoder has one more)
 * @param latentChannels      L, latent channels (4)
 * @param normGroups          GroupNorm groups (the epsilon is fixed at 1e-6 in diffusers' VAE)
 * @param scalingFactor       latents are {@code scalingFactor · z} (0.18215 SD 1.x/2.x, 0.13025 SDXL)
 * @param useQuantConv        whether {@code quant_conv} exists
 * @param usePostQuantConv    whether {@code post_quant_conv} exists
 * @param midBlockAttention   whether the mid blocks have their attention layer
 */
public record VaeConfig(int inChannels, int outChannels, List<Integer> blockOutChannels, int layersPerBlock,
                        int latentChannels, int normGroups, double scalingFactor, boolean useQuantConv,
                        boolean usePostQuantConv, boolean midBlockAttention) {

    /** Most levels (block_out_channels entries): SD's VAE has 4. */
    public static final int MAX_LEVELS = 8;
    public static final Range IN_CHANNELS = new Range("in_channels", 1, 256);
    public static final Range OUT_CHANNELS = new Range("out_channels", 1, 256);
    public static final Range CHANNELS = new Range("block_out_channels", 1, 16384);
    public static final Range LAYERS = new Range("layers_per_block", 1, 16);
    public static final Range LATENT_CHANNELS = new Range("latent_channels", 1, 256);
    public static final Range GROUPS = new Range("norm_num_groups", 1, 1024);

    public VaeConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        if (blockOutChannels.isEmpty() || blockOutChannels.size() > MAX_LEVELS) {
            throw new ConfigException("block_out_channels must have 1 to " + MAX_LEVELS + " entries, got "
                    + blockOutChannels.size());
        }
        CHANNELS.checkAll(blockOutChannels);
        GROUPS.check(normGroups);
        for (int c : blockOutChannels) {
            if (c % normGroups != 0) {
                throw new ConfigException("block_out_channels " + blockOutChannels
                        + " must be multiples of norm_num_groups " + normGroups);
            }
        }
        LAYERS.check(layersPerBlock);
        LATENT_CHANNELS.check(latentChannels);
        IN_CHANNELS.check(inChannels);
        OUT_CHANNELS.check(outChannels);
        if (!(scalingFactor > 0) || !Double.isFinite(scalingFactor)) {
            throw new ConfigException("scaling_factor must be a positive number, got " + scalingFactor);
        }
    }

    public static VaeConfig read(Path configJson) {
        return from(JsonConfig.read(configJson));
    }

    public static VaeConfig from(JsonConfig c) {
        try {
            return parse(c);
        } catch (ConfigException e) {
            throw e.in(c.source());
        }
    }

    private static VaeConfig parse(JsonConfig c) {
        c.requireAbsentOr("_class_name", "AutoencoderKL");
        List<Integer> channels = c.intList(CHANNELS, List.of(64), MAX_LEVELS);
        for (String t : c.stringList("down_block_types", List.of("DownEncoderBlock2D"))) {
            if (!t.equals("DownEncoderBlock2D")) {
                throw c.error("down_block_types", Messages.quote(t) + " is not supported (DownEncoderBlock2D)");
            }
        }
        for (String t : c.stringList("up_block_types", List.of("UpDecoderBlock2D"))) {
            if (!t.equals("UpDecoderBlock2D")) {
                throw c.error("up_block_types", Messages.quote(t) + " is not supported (UpDecoderBlock2D)");
            }
        }
        int levels = channels.size();
        if (c.stringList("down_block_types", List.of("DownEncoderBlock2D")).size() != levels
                && c.has("down_block_types")) {
            throw c.error("down_block_types", "must have one entry per block_out_channels entry (" + levels + ")");
        }
        if (c.stringList("up_block_types", List.of("UpDecoderBlock2D")).size() != levels && c.has("up_block_types")) {
            throw c.error("up_block_types", "must have one entry per block_out_channels entry (" + levels + ")");
        }
        c.choice("act_fn", "silu", Set.of("silu"));
        c.requireAbsentOr("shift_factor", 0);
        c.requireAbsentOr("latents_mean", null);
        c.requireAbsentOr("latents_std", null);
        return new VaeConfig(
                c.integer(IN_CHANNELS, 3),
                c.integer(OUT_CHANNELS, 3),
                channels,
                c.integer(LAYERS, 1),
                c.integer(LATENT_CHANNELS, 4),
                c.integer(GROUPS, 32),
                c.number("scaling_factor", 0.18215),
                c.bool("use_quant_conv", true),
                c.bool("use_post_quant_conv", true),
                c.bool("mid_block_add_attention", true));
    }
}
