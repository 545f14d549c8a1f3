package dev.unetlens.viz;

/**
 * A feature map with where it came from: one entry of a step strip or of a U-Net overview.
 *
 * @param label module, step, timestep
 * @param map   [C, H, W]
 */
public record FeatureFrame(MapLabel label, FeatureMap map) {
}
