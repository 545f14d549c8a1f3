package dev.unetlens.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.io.NpyArray;
import dev.unetlens.rng.NoiseSource;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A noise source for tests: hands out recorded tensors first (checking each requested shape), then draws from a
 * fallback source; remembers every draw so a test can compare the order and values with the fixtures.
 */
final class RecordingNoise implements NoiseSource {
    private final Deque<NpyArray> replay;
    private final NoiseSource fallback;
    final List<float[]> draws = new ArrayList<>();
    final List<Shape> shapes = new ArrayList<>();

    RecordingNoise(List<NpyArray> replay, NoiseSource fallback) {
        this.replay = new ArrayDeque<>(replay);
        this.fallback = fallback;
    }

    @Override
    public NDArray randn(NDManager manager, Shape shape) {
        NDArray out;
        if (!replay.isEmpty()) {
            NpyArray next = replay.poll();
            if (!new Shape(next.shape()).equals(shape)) {
                throw new AssertionError("draw " + draws.size() + " asks for " + shape + " but the recorded draw is "
                        + new Shape(next.shape()));
            }
            out = manager.create(next.toFloats(), shape);
        } else {
            out = fallback.randn(manager, shape);
        }
        draws.add(out.toFloatArray());
        shapes.add(shape);
        return out;
    }
}
