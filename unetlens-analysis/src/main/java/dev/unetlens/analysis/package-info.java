/**
 * Analyses of representations over images, timesteps and noise draws, each a Java API that reads like the science
 * and returns a result record that writes {@code results.json}, plots (PNG and SVG) and {@code .npy} arrays:
 * {@link dev.unetlens.analysis.channels.ChannelMagnitudes} (are channel scales comparable?),
 * {@link dev.unetlens.analysis.dispersion.Dispersion} (how much do representations move between noise draws?),
 * {@link dev.unetlens.analysis.similarity.TokenSimilarity} (the representation similarity explorer).
 *
 * <p>The framework: {@link dev.unetlens.analysis.images.ImageSet} (folders, formats, preprocessing, read lazily),
 * {@link dev.unetlens.analysis.Sampling} (modules, timesteps, draws, seeds), {@link dev.unetlens.analysis.FeatureStream}
 * (batches as they leave the U-Net), and streaming accumulators ({@link dev.unetlens.analysis.stats}): statistics
 * are updated per batch and finished when an image's draws at a timestep are complete, so memory grows with neither
 * the images nor the draws.
 *
 * <p>Shape letters: N draws (noise samples), C channels, H × W positions of a module's map (P = H·W tokens, row-major:
 * token p = row·W + col), T timesteps.
 */
package dev.unetlens.analysis;
