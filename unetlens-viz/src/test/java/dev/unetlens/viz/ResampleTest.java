package dev.unetlens.viz;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * PyTorch's bicubic resize (align_corners=False, A = −0.75), worked by hand for [0, 1] → 4 samples:
 * <pre>
 *   d  x = ½(d+½) − ½   i   t     taps (clamped)   value
 *   0  −0.25           −1  0.75   0 0 0 1          c₂(1.25)                    = −0.10546875
 *   1   0.25            0  0.25   0 0 1 1          c₁(0.75) + c₂(1.75)         =  0.26171875 − 0.03515625
 *   2   0.75            0  0.75   0 0 1 1          c₁(0.25) + c₂(1.25)         =  0.87890625 − 0.10546875
 *   3   1.25            1  0.25   0 1 1 1          1 − c₂(1.25)                =  1.10546875
 * </pre>
 * with c₁(x) = ((A+2)x − (A+3))x² + 1 and c₂(x) = ((Ax − 5A)x + 8A)x − 4A.
 */
class ResampleTest {
    private static final float[] RAMP_UP = {-0.10546875f, 0.2265625f, 0.7734375f, 1.10546875f};

    @Test
    void rampOfTwoToFourAlongX() {
        float[] out = Resample.bicubic(new float[] {0, 1}, 1, 2, 1, 4);
        assertThat(out).containsExactly(RAMP_UP, within(1e-7f));
    }

    @Test
    void rampOfTwoToFourAlongYIsTheSame() {
        float[] out = Resample.bicubic(new float[] {0, 1}, 2, 1, 4, 1);
        assertThat(out).containsExactly(RAMP_UP, within(1e-7f));
    }

    @Test
    void twoDimensionsAreSeparable() {
        // rows [0, 1] and [0, 1]: every output row is the 1-D ramp; a 2×2 → 4×4 resize
        float[] out = Resample.bicubic(new float[] {0, 1, 0, 1}, 2, 2, 4, 4);
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 4; c++) {
                assertThat(out[r * 4 + c]).isCloseTo(RAMP_UP[c], within(1e-6f));
            }
        }
        // and the outer product of two ramps is the outer product of the resized ramps
        float[] prod = Resample.bicubic(new float[] {0, 0, 0, 1}, 2, 2, 4, 4);
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 4; c++) {
                assertThat(prod[r * 4 + c]).isCloseTo(RAMP_UP[r] * RAMP_UP[c], within(1e-6f));
            }
        }
    }

    @Test
    void constantsStayConstantAndSameSizeIsIdentity() {
        float[] c = Resample.bicubic(new float[] {0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f}, 2, 3, 7, 5);
        for (float v : c) {
            assertThat(v).isCloseTo(0.25f, within(1e-7f));
        }
        float[] in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        assertThat(Resample.bicubic(in, 3, 3, 3, 3)).containsExactly(in, within(1e-6f));
    }

    @Test
    void weightsSumToOne() {
        for (double t = 0; t < 1; t += 0.125) {
            double[] w = Resample.weights(t);
            assertThat(w[0] + w[1] + w[2] + w[3]).isCloseTo(1.0, within(1e-12));
        }
    }
}
