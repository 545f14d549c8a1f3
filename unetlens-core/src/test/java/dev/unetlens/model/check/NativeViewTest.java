package dev.unetlens.model.check;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;

import static org.assertj.core.api.Assertions.assertThat;

/** In-place reads: a contiguous float32 tensor is read without a copy, anything else is declined (callers gather). */
class NativeViewTest {
    @Test
    void contiguousTensorsAreReadInPlace() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.arange(24f).reshape(2, 3, 4);
            FloatBuffer view = NativeView.floats(x);
            assertThat(view).isNotNull();
            assertThat(view.capacity()).isEqualTo(24);
            float[] values = new float[24];
            view.get(values);
            assertThat(values).isEqualTo(x.toFloatArray());
            x.set(new ai.djl.ndarray.index.NDIndex("0, 0, 1"), 100f);           // the view is the tensor's memory
            assertThat(view.get(1)).isEqualTo(100f);
        }
    }

    @Test
    void otherTensorsAreDeclined() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.arange(24f).reshape(2, 3, 4);
            assertThat(NativeView.floats(x.transpose(0, 2, 1))).isNull();
            assertThat(NativeView.floats(x.get(":, 1:, :"))).isNull();
            assertThat(NativeView.floats(x.toType(DataType.FLOAT64, true))).isNull();
            assertThat(Samples.at(x.transpose(0, 2, 1), new long[] {0, 1, 23}))
                    .containsExactly(0f, 4f, 23f);                                   // gathered in logical order
        }
    }
}
