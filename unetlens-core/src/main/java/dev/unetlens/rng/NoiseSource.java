package dev.unetlens.rng;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Where a sampler draws standard normal noise from: diffusers' {@code randn_tensor(shape, generator=...)}.
 * {@link TorchGenerator} is the real one; tests and replays can hand in recorded tensors instead.
 */
@FunctionalInterface
public interface NoiseSource {
    /** A new float32 N(0, 1) tensor of {@code shape}, owned by {@code manager}; each call advances the source. */
    NDArray randn(NDManager manager, Shape shape);
}
