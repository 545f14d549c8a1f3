/**
 * Single-file Stable Diffusion checkpoints in the original LDM/CompVis key naming (the {@code .safetensors} files
 * that A1111, ComfyUI and the model hubs pass around), seen as diffusers components.
 *
 * <p>{@link dev.unetlens.io.ldm.SingleFileCheckpoint} opens one file, tells its {@link dev.unetlens.io.ldm.LdmFamily}
 * from the keys, and presents each {@link dev.unetlens.io.ldm.LdmComponent} as a
 * {@link dev.unetlens.io.TensorSource} with exactly the diffusers / transformers state-dict keys and shapes, as
 * diffusers v0.27.2 {@code loaders/single_file_utils.py} maps them. Renames, reshapes and row splits are views of
 * the mapped file; the one computed tensor (OpenCLIP's transposed {@code text_projection}) lives in a native arena
 * that the checkpoint owns. {@link dev.unetlens.io.ldm.ConfigInference} rebuilds the diffusers {@code config.json}
 * contents from the keys and shapes where LDM's fixed architecture rules allow it.
 *
 * <p>Keys and shapes come from the file and may be anything. Block indices in key patterns match at most nine digits
 * ({@code \\d{1,9}}), so they always fit an int: a key with a longer index matches no rule, stays unrecognized and is
 * named when its component loads. Shapes are read only after checking their rank, and a dimension becomes a config
 * value only after checking that it fits one.
 *
 * <p>Shape letters: C channels, D text width, P projection width, I MLP width, V vocabulary, T positions.
 */
package dev.unetlens.io.ldm;
