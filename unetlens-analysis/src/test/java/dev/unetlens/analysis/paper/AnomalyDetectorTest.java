package dev.unetlens.analysis.paper;

import dev.unetlens.analysis.paper.AnomalyDetector.Patch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The detector's threshold k, chosen on planted data: no noise token passes it, planted patches do. */
class AnomalyDetectorTest {
    /** The norm map of Gaussian channels, with tokens of the patch (row, col, 2×2) scaled by {@code factor}. */
    static NormMap planted(Random r, int c, int h, int w, int row, int col, double factor) {
        float[] x = PaperArithmeticTest.noise(r, c, h, w);
        for (int k = 0; k < c; k++) {
            for (int dr = 0; dr < 2; dr++) {
                for (int dc = 0; dc < 2; dc++) {
                    x[k * h * w + (row + dr) * w + col + dc] *= (float) factor;
                }
            }
        }
        return NormMap.of(x, 0, c, h, w);
    }

    /** 60 maps of pure noise (4 to 320 channels, 16² to 64² tokens, non-square too): not one token passes k = 6. */
    @Test
    void noNoiseTokenPassesTheDefaultThreshold() {
        Random r = new Random(42);
        int[][] sizes = {{16, 16}, {32, 48}, {64, 64}};
        int falsePositives = 0;
        double worst = 0;
        for (int c : new int[] {4, 64, 320}) {
            for (int[] s : sizes) {
                for (int i = 0; i < (s[0] == 64 ? 4 : 8); i++) {
                    NormMap m = planted(r, c, s[0], s[1], 0, 0, 1);
                    falsePositives += AnomalyDetector.detect(m, AnomalyDetector.DEFAULT_K).size();
                    worst = Math.max(worst, maxZ(m));
                }
            }
        }
        assertThat(falsePositives).isZero();
        assertThat(worst).as("largest robust z of a noise token").isLessThan(AnomalyDetector.DEFAULT_K);
    }

    static double maxZ(NormMap m) {
        double t0 = AnomalyDetector.threshold(m, 0);
        double sigma = AnomalyDetector.threshold(m, 1) - t0;
        return (java.util.Arrays.stream(m.norms()).max().orElseThrow() - t0) / sigma;
    }

    /**
     * A 2×2 patch of 1.5 to 4 times the typical norm is found where it was planted, alone, with its ratio (the
     * patch's norm over the map's mean, which includes the patch), to the noise of four tokens' norms.
     */
    @ParameterizedTest
    @CsvSource({"320, 64, 64, 30, 41, 1.5", "320, 32, 48, 0, 46, 2", "64, 16, 16, 7, 7, 4", "1280, 8, 8, 3, 2, 1.5",
            "640, 24, 40, 22, 0, 3"})
    void aPlantedPatchIsFoundWhereItWasPlantedWithItsRatio(int c, int h, int w, int row, int col, double factor) {
        NormMap m = planted(new Random(c + h + row), c, h, w, row, col, factor);
        List<Patch> found = AnomalyDetector.detect(m, AnomalyDetector.DEFAULT_K);
        assertThat(found).hasSize(1);
        Patch p = found.getFirst();
        assertThat(new int[] {p.row(), p.col(), p.rows(), p.cols(), p.tokens()}).containsExactly(row, col, 2, 2, 4);
        double inside = 0;
        for (int dr = 0; dr < 2; dr++) {
            for (int dc = 0; dc < 2; dc++) {
                inside += m.at(row + dr, col + dc);
            }
        }
        assertThat(p.ratio()).isCloseTo(inside / 4 / m.mean(), within(1e-12));
        double planted = factor * h * w / (4 * factor + h * w - 4);       // the map's mean includes the patch
        assertThat(p.ratio()).isCloseTo(planted, within(0.12 * planted));
        assertThat(AnomalyWindow.of(col, row, h, h).ratio(m)).isCloseTo(p.ratio(), within(1e-12));
    }

    @Test
    void aPatchMeetsAWindowWithinTheMargin() {
        Patch p = new Patch(5, 5, 2, 2, 4, 3, 3);
        assertThat(p.meets(new AnomalyWindow(7, 7, 1), 1)).isTrue();
        assertThat(p.meets(new AnomalyWindow(8, 7, 1), 1)).isFalse();
        assertThat(p.meets(new AnomalyWindow(3, 3, 1), 1)).isFalse();
        assertThat(p.meets(new AnomalyWindow(4, 4, 1), 1)).isTrue();
    }
}
