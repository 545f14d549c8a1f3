/**
 * Representation pictures (shape letters as in {@link dev.unetlens.viz}): features as colour by PCA
 * ({@link dev.unetlens.viz.repr.Pca}, {@link dev.unetlens.viz.repr.PcaRgb}), the representation-similarity explorer
 * ({@link dev.unetlens.viz.repr.CosineSimilarity}) and token norms ({@link dev.unetlens.viz.repr.TokenNorms}).
 */
package dev.unetlens.viz.repr;
