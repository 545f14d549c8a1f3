/**
 * Attention pictures (shape letters as in {@link dev.unetlens.viz}; probabilities are [B, N, T, S]): Dump U-Net's
 * tokens × heads grid ({@link dev.unetlens.viz.attention.CrossAttentionGrid}), DAAM's aggregated word heat maps
 * ({@link dev.unetlens.viz.attention.DaamAccumulator}, {@link dev.unetlens.viz.attention.WordHeatMap}), where one
 * position looks in a self-attention ({@link dev.unetlens.viz.attention.SelfAttentionMap}), and how much each token
 * is attended ({@link dev.unetlens.viz.attention.TokenMassChart}).
 */
package dev.unetlens.viz.attention;
