package dev.unetlens.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Conv2d's im2col product against libtorch's convolution at SD's shapes where it is taken (big weights, at most
 * 256 output positions): 3×3 resnet convolutions at 8×8 and 16×16, the 2560-channel skip concatenation, the
 * stride-2 downsampler, 1×1 shortcuts, batch 2, and a non-square map. The two differ only in the order of the
 * additions, so both are measured against the same convolution in float64: the im2col product must be no further
 * from it than 1.5× libtorch's own float32 error (measured: 0.08–0.13× for 3×3, where oneDNN sums
 * in a longer chain, and 1.05–1.09× for 1×1), and both within 1e-5 of max |y|. Also: the
 * output lives on the input's manager, and shapes outside the thresholds take libtorch's path.
 */
class Conv2dTest {
    private static final double ERROR_RATIO = 1.5;
    private static final double RELATIVE_TOLERANCE = 1e-5;

    @ParameterizedTest(name = "{0}→{1} k{2} s{3} p{4} over {5}×{6}×{7}")
    @CsvSource({
        "1280, 1280, 3, 1, 1, 1, 8, 8",
        "2560, 1280, 3, 1, 1, 1, 8, 8",
        "1280, 1280, 3, 1, 1, 2, 16, 16",
        "640, 1280, 3, 1, 1, 1, 16, 8",
        "1280, 1280, 3, 2, 1, 1, 16, 16",
        "1920, 1280, 1, 1, 0, 2, 8, 8",
        "1280, 1280, 1, 1, 0, 1, 12, 12",
    })
    void im2colGivesTheConvolution(long in, long out, int kernel, int stride, int padding, long batch, long h, long w) {
        try (NDManager weights = NDManager.newBaseManager(); NDManager m = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(Weights.random(5, weights, "test"), "conv", in, out, kernel, stride, padding);
            Engine.getInstance().setRandomSeed(3);
            NDArray x = m.randomNormal(new Shape(batch, in, h, w));
            long ho = conv.outputSize(h);
            long wo = conv.outputSize(w);
            assertThat(ho * wo).isLessThanOrEqualTo(Conv2d.GEMM_MAX_POSITIONS);
            NDArray direct = conv.direct(x);
            NDArray gemm = conv.im2col(x, padding, padding);
            assertThat(gemm.getShape()).isEqualTo(direct.getShape());
            assertThat(gemm.getManager()).isSameAs(m);
            NDArray x64 = x.toType(DataType.FLOAT64, true);
            NDArray exact = x64.getNDArrayInternal().convolution(x64, conv.weight().toType(DataType.FLOAT64, true),
                    conv.bias().toType(DataType.FLOAT64, true), new Shape(stride, stride), new Shape(padding, padding),
                    new Shape(1, 1), 1).singletonOrThrow();
            double largest = exact.abs().max().getDouble();
            double gemmError = gemm.toType(DataType.FLOAT64, true).sub(exact).abs().max().getDouble();
            double directError = direct.toType(DataType.FLOAT64, true).sub(exact).abs().max().getDouble();
            assertThat(gemmError).as("im2col's error against float64").isLessThanOrEqualTo(ERROR_RATIO * directError);
            assertThat(Math.max(gemmError, directError) / largest).isLessThanOrEqualTo(RELATIVE_TOLERANCE);
            assertThat(conv.forward(x).toFloatArray()).isEqualTo(gemm.toFloatArray());
        }
    }

    @ParameterizedTest(name = "{0}→{1} over {2}×{3}")
    @CsvSource({"1280, 1280, 32, 32", "64, 64, 8, 8", "320, 320, 8, 8"})
    void othersTakeLibtorchsConvolution(long in, long out, long h, long w) {
        try (NDManager weights = NDManager.newBaseManager(); NDManager m = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(Weights.random(5, weights, "test"), "conv", in, out, 3, 1, 1);
            NDArray x = m.randomNormal(new Shape(1, in, h, w));
            assertThat(conv.forward(x).toFloatArray()).isEqualTo(conv.direct(x).toFloatArray());
        }
    }

    @ParameterizedTest(name = "{0}→{1} k{2} over {3}×{4}×{5}, bands of {6} rows")
    @CsvSource({
        "8, 16, 3, 2, 23, 17, 5",
        "16, 8, 3, 1, 40, 9, 8",
        "8, 8, 5, 1, 19, 13, 4",
        "12, 6, 1, 1, 21, 10, 6",
        "8, 8, 3, 1, 16, 16, 16",
        "8, 8, 3, 1, 7, 16, 2",
    })
    void bandsGiveTheSameNumbersAsOneCall(long in, long out, int kernel, long batch, long h, long w, long band) {
        try (NDManager weights = NDManager.newBaseManager(); NDManager m = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(Weights.random(7, weights, "test"), "conv", in, out, kernel, 1, kernel / 2);
            NDArray x = m.randomNormal(new Shape(batch, in, h, w));
            NDArray banded = conv.bands(m, x.getShape(), (a, b) -> x.get(":, :, {}:{}", a, b), band);
            assertThat(banded.getManager()).isSameAs(m);
            assertThat(banded.getShape()).isEqualTo(conv.direct(x).getShape());
            assertThat(banded.toFloatArray()).isEqualTo(conv.direct(x).toFloatArray());
        }
    }

    /**
     * Bands of a convolution whose input channels oneDNN mishandles on AVX-512 (not a multiple of 16, over 20): each
     * band is its own call with its own shape, checked and rerouted like any other, so the whole map is right at
     * every output against float64 loops.
     */
    @ParameterizedTest(name = "{0}→{1} over {2}×{3}×{4}, bands of {5} rows")
    @CsvSource({"24, 24, 2, 40, 36, 9", "40, 8, 1, 64, 48, 16", "56, 40, 2, 33, 20, 7"})
    void bandsOfRaggedChannelCountsAreRightEverywhere(int in, int out, int batch, int h, int w, long band) {
        try (NDManager weights = NDManager.newBaseManager(); NDManager m = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(Weights.random(11, weights, "test"), "conv", in, out, 3, 1, 1);
            NDArray x = m.randomNormal(new Shape(batch, in, h, w));
            NDArray banded = conv.bands(m, x.getShape(), (a, b) -> x.get(":, :, {}:{}", a, b), band);
            Reference64.Sums exact = Reference64.conv2d(x.toFloatArray(), conv.weight().toFloatArray(),
                    conv.bias().toFloatArray(), batch, in, h, w, out, 3, 1, 1);
            dev.unetlens.model.check.Comparison c = exact.compare(banded.toFloatArray());
            assertThat(c.passed()).as(c.describe()).isTrue();
        }
    }

    @ParameterizedTest(name = "{0} channels over {1}×{2}: banded {3}")
    @CsvSource({"128, 512, 512, true", "256, 256, 256, true", "512, 128, 128, false", "128, 256, 256, false"})
    void bigMapsAreBanded(long channels, long h, long w, boolean banded) {
        try (NDManager weights = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(Weights.random(5, weights, "test"), "conv", channels, channels, 3, 1, 1);
            assertThat(conv.banded(new Shape(1, channels, h, w))).isEqualTo(banded);
            Conv2d down = new Conv2d(Weights.random(5, weights, "test"), "down", channels, channels, 3, 2, 0);
            assertThat(down.banded(new Shape(1, channels, h, w))).isFalse();
        }
    }

    @ParameterizedTest(name = "{0} channels, {1}×{2} doubled, bands of {3} rows")
    @CsvSource({"4, 5, 7, 3", "6, 8, 3, 4", "3, 6, 6, 5", "4, 3, 9, 1"})
    void theUpsamplersBandsAreTheDoubledMapsConvolution(long channels, long h, long w, long band) {
        try (NDManager weights = NDManager.newBaseManager(); NDManager m = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(Weights.random(9, weights, "test"), "conv", channels, channels, 3, 1, 1);
            NDArray x = m.randomNormal(new Shape(2, channels, h, w));
            NDArray up = x.getNDArrayInternal().interpolation(new long[] {2 * h, 2 * w}, 0, false);
            for (long a = 0; a < 2 * h; a++) {                                  // every row range of the ×2 map
                for (long b = a + 1; b <= 2 * h; b++) {
                    assertThat(Upsample2D.doubledRows(x, a, b).toFloatArray())
                            .isEqualTo(up.get(":, :, {}:{}", a, b).toFloatArray());
                }
            }
            NDArray banded = conv.bands(m, up.getShape(), (a, b) -> Upsample2D.doubledRows(x, a, b), band);
            assertThat(banded.toFloatArray()).isEqualTo(conv.direct(up).toFloatArray());
        }
    }
}
