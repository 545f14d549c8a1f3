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
            NativeView native_ = NativeView.of(x);
            assertThat(native_).isNotNull();
            assertThat(native_.rowMajor()).isTrue();
            FloatBuffer view = native_.data();
            assertThat(view.capacity()).isEqualTo(24);
            float[] values = new float[24];
            view.get(values);
            assertThat(values).isEqualTo(x.toFloatArray());
            x.set(new ai.djl.ndarray.index.NDIndex("0, 0, 1"), 100f);           // the view is the tensor's memory
            assertThat(view.get(1)).isEqualTo(100f);
        }
    }

    /** libtorch keeps maps channels-last after a transformer's permute; they are read in place, in logical order. */
    @Test
    void channelsLastMapsAreReadInPlaceInLogicalOrder() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray nhwc = m.arange(2f * 5 * 3 * 7).reshape(2, 3, 7, 5);             // memory order N, H, W, C
            NDArray x = nhwc.transpose(0, 3, 1, 2);                                  // logical N, C, H, W
            NativeView view = NativeView.of(x);
            assertThat(view).isNotNull();
            assertThat(view.rowMajor()).isFalse();
            float[] logical = x.toFloatArray();
            for (int i = 0; i < logical.length; i++) {
                assertThat(view.at(i)).isEqualTo(logical[i]);
            }
            assertThat(view.at(1, 4, 2, 6)).isEqualTo(x.getFloat(1, 4, 2, 6));
            int[] rows = {0, 17, 29};
            float[] expected = new float[rows.length * 7];
            for (int r = 0; r < rows.length; r++) {
                System.arraycopy(logical, rows[r] * 7, expected, r * 7, 7);
            }
            assertThat(Samples.rows(x, rows, 7)).containsExactly(expected);
        }
    }

    @Test
    void otherTensorsAreDeclined() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.arange(24f).reshape(2, 3, 4);
            assertThat(NativeView.of(x.transpose(0, 2, 1))).isNull();
            assertThat(NativeView.of(x.get(":, 1:, :"))).isNull();
            assertThat(NativeView.of(x.toType(DataType.FLOAT64, true))).isNull();
            assertThat(NativeView.of(x.reshape(2, 3, 2, 2).transpose(0, 2, 1, 3))).isNull();  // 4-D, neither layout
            assertThat(Samples.at(x.transpose(0, 2, 1), new long[] {0, 1, 23}))
                    .containsExactly(0f, 4f, 23f);                                   // gathered in logical order
        }
    }
}
