/**
 * PyTorch checkpoints ({@code torch.save}: {@code .ckpt}, {@code .pt}, {@code .pth}, {@code .bin}) read without
 * Python and without running their pickle: a pickle-opcode interpreter ({@link dev.unetlens.io.pickle.PickleMachine})
 * that builds only inert values and knows only the globals a state dict needs
 * ({@link dev.unetlens.io.pickle.TorchGlobals}), the zip layout ({@link dev.unetlens.io.pickle.ZipDirectory},
 * {@link dev.unetlens.io.pickle.TorchZipArchive}) and the legacy layout
 * ({@link dev.unetlens.io.pickle.TorchLegacyFile}). {@link dev.unetlens.io.pickle.TorchCheckpoint} presents the
 * state dict as a {@link dev.unetlens.io.TensorSource} whose tensors are views of the memory-mapped file.
 *
 * <p>Why not Python's own safeguards: {@code torch.load(weights_only=True)} is an unpickler with an allow-list too,
 * and had a remote-code-execution hole (CVE-2025-32434); here nothing can be called but the few builders below, each
 * of which makes data and checks it (a tensor must lie inside its storage), and every refusal is one line naming the
 * opcode or global and its byte offset.
 */
package dev.unetlens.io.pickle;
