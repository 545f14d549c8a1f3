/**
 * Changing one thing and seeing what moves: Dump U-Net's per-block prompts ({@link dev.unetlens.intervene.LayerPrompt},
 * applied by {@link dev.unetlens.intervene.LayerPrompts}), edits of module outputs ({@link dev.unetlens.intervene.Edit}:
 * zero, scale, add, replace, steer, patch — over chosen steps, channels, rows and regions), activation patching
 * between runs with a metric sweep ({@link dev.unetlens.intervene.Patching}), and per-module difference tensors of
 * two runs of one seed ({@link dev.unetlens.intervene.Differences}). Everything is built on the hook registry: a run
 * installs its hooks in one {@link dev.unetlens.hook.HookScope}, so edits compose with captures.
 *
 * <p>Shape letters, as in {@code model.unet}:
 * <pre>
 *   B   batch rows (with CFG: unconditional rows first, then conditional)
 *   C   channels of a module output; H W its spatial size
 *   T   tokens of a transformer (T = H·W, row-major); S text tokens (77); Dc text width
 *   N   attention heads
 * </pre>
 */
package dev.unetlens.intervene;
