package dev.unetlens.config;

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

    public VaeConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        if (blockOutChannels.isEmpty()) {
            throw new ConfigException("block_out_channels must not be empty");
        }
        for (int c : blockOutChannels) {
            if (c <= 0 || c % normGroups != 0) {
                throw new ConfigException("block_out_channels " + blockOutChannels
                        + " must be positive multiples of norm_num_groups " + normGroups);
            }
        }
        if (layersPerBlock < 1 || latentChannels < 1 || inChannels < 1 || outChannels < 1) {
            throw new ConfigException("layers_per_block, latent_channels, in_channels and out_channels must be positive");
        }
        if (!(scalingFactor > 0)) {
            throw new ConfigException("scaling_factor must be positive, got " + scalingFactor);
        }
    }

    public static VaeConfig read(Path configJson) {
        return from(JsonConfig.read(configJson));
    }

    public static VaeConfig from(JsonConfig c) {
        c.requireAbsentOr("_class_name", "AutoencoderKL");
        List<Integer> channels = c.intList("block_out_channels", List.of(64));
        for (String t : c.stringList("down_block_types", List.of("DownEncoderBlock2D"))) {
            if (!t.equals("DownEncoderBlock2D")) {
                throw c.error("down_block_types", "'" + t + "' is not supported (DownEncoderBlock2D)");
            }
        }
        for (String t : c.stringList("up_block_types", List.of("UpDecoderBlock2D"))) {
            if (!t.equals("UpDecoderBlock2D")) {
                throw c.error("up_block_types", "'" + t + "' is not supported (UpDecoderBlock2D)");
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
        try {
            return new VaeConfig(
                    c.integer("in_channels", 3),
                    c.integer("out_channels", 3),
                    channels,
                    c.integer("layers_per_block", 1),
                    c.integer("latent_channels", 4),
                    c.integer("norm_num_groups", 32),
                    c.number("scaling_factor", 0.18215),
                    c.bool("use_quant_conv", true),
                    c.bool("use_post_quant_conv", true),
                    c.bool("mid_block_add_attention", true));
        } catch (ConfigException e) {
            throw new ConfigException(c.source() + ": " + e.getMessage());
        }
    }
}
