package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** SiLU written over its input gives the same bits as SiLU into a new array, extremes included. */
class ActivationsTest {
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void siluOverwriteIsSilu(long seed) {
        try (NDManager m = NDManager.newBaseManager()) {
            ai.djl.engine.Engine.getInstance().setRandomSeed((int) seed);
            NDArray x = m.randomNormal(0, 8, new Shape(4, 1000), ai.djl.ndarray.types.DataType.FLOAT32);
            x = x.concat(m.create(new float[] {0f, -0f, 88.8f, -88.8f, 1e-30f, -1e-30f, Float.MAX_VALUE,
                -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}).reshape(1, 10)
                .tile(new long[] {1, 100}), 0);
            float[] expected = Activations.silu(x).toFloatArray();
            NDArray copy = x.duplicate();
            NDArray y = Activations.SILU.overwrite(copy);
            assertThat(y).isSameAs(copy);
            assertThat(y.toFloatArray()).isEqualTo(expected);
            assertThat(Activations.SILU.apply(x).toFloatArray()).isEqualTo(expected);
        }
    }
}
