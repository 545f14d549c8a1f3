/**
 * Pictures of extracted tensors: feature-map grids with Dump U-Net's colorization, step strips and whole-U-Net
 * overviews ({@code grid}), cross-attention grids, DAAM word heat maps and self-attention maps ({@code attention}),
 * PCA, cosine-similarity and token-norm maps ({@code repr}). Inputs are plain Java arrays ({@link
 * dev.unetlens.viz.FeatureMap}, {@link dev.unetlens.viz.attention.AttentionProbs}, {@link dev.unetlens.io.RgbImage});
 * outputs are {@link dev.unetlens.viz.Picture}s (a {@link java.awt.image.BufferedImage} plus the fields its
 * manifest entry records) and {@link dev.unetlens.viz.Chart}s (PNG and SVG). Nothing here needs a display: draw
 * with {@code -Djava.awt.headless=true}.
 *
 * <p>Shape letters used in every comment and Javadoc of this module:
 * <pre>
 *   B   batch rows (with classifier-free guidance: the first half unconditional, the second conditional)
 *   C   channels of a feature map
 *   H W height and width of a block's map (latent: the VAE's 1/8 of the image)
 *   N   attention heads
 *   T   query positions of an attention, T = H·W, row-major (position = row·W + col)
 *   S   key positions: the text tokens (77) for cross-attention, T for self-attention
 * </pre>
 */
package dev.unetlens.viz;
