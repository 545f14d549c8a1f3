/**
 * Feature-map pictures (shape letters as in {@link dev.unetlens.viz}): every channel as a tile
 * ({@link dev.unetlens.viz.grid.FeatureGrid}, paged), channel-reduced maps ({@link dev.unetlens.viz.grid.Reduction},
 * {@link dev.unetlens.viz.grid.ReducedMap}), one module over steps ({@link dev.unetlens.viz.grid.StepStrip}) and
 * one map per block ({@link dev.unetlens.viz.grid.UNetOverview}).
 */
package dev.unetlens.viz.grid;
