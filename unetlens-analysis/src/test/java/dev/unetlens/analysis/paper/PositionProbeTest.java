package dev.unetlens.analysis.paper;

import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.paper.PaperMaps.ImageMaps;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The probe with the paper's settings on constructed tokens: a planted positional code is read, noise is not. */
class PositionProbeTest {
    /**
     * {@code images} images of [H·W, C] tokens: Gaussian noise plus, when {@code code}, a linear code of row and
     * column. With the paper's 5 epochs of batch 512 at lr 1e-3 the probe needs some 400 steps to settle, as it gets
     * from 64² maps of a few hundred images; here ≈ 90 steps per epoch.
     */
    static List<ImageMaps> tokens(int h, int w, int c, boolean code, long seed, int images) {
        Random r = new Random(seed);
        List<ImageMaps> out = new ArrayList<>();
        for (int i = 0; i < images; i++) {
            float[] t = new float[h * w * c];
            for (int p = 0; p < h * w; p++) {
                for (int k = 0; k < c; k++) {
                    t[p * c + k] = (float) r.nextGaussian();
                }
                if (code) {
                    t[p * c + p / w] += 8;                 // row one-hot in channels 0 … H−1
                    t[p * c + h + p % w] += 8;             // column one-hot in channels H … H+W−1
                }
            }
            out.add(new ImageMaps(i, null, null, null, t));
        }
        return out;
    }

    @ParameterizedTest
    @CsvSource({"24, 40, 96", "32, 32, 80"})
    void aPlantedLinearPositionalCodeIsReadAtEveryGrid(int h, int w, int c) {
        PositionProbe.Result r = PositionProbe.train(tokens(h, w, c, true, 1, 60), new MapShape(c, h, w), PositionProbe.Settings.PAPER);
        assertThat(r.train()).isEqualTo(48);
        assertThat(r.test()).isEqualTo(12);
        assertThat(r.loss()[4]).isLessThan(r.loss()[0]);
        for (int g = 0; g < 4; g++) {
            assertThat(r.accuracy()[4][g]).as("grid " + PositionProbe.Settings.PAPER.grids().get(g)).isGreaterThanOrEqualTo(0.99);
            assertThat(r.perAxis()[4][g]).isGreaterThanOrEqualTo(r.accuracy()[4][g]);
        }
    }

    /**
     * Pure noise: at every grid the accuracy stays within 4 binomial σ of chance (1 / (min(g, H)·min(g, W)) for
     * both coordinates) over the 12 · H · W test tokens.
     */
    @ParameterizedTest
    @CsvSource({"24, 40, 96", "16, 16, 32"})
    void pureNoiseStaysNearChance(int h, int w, int c) {
        PositionProbe.Result r = PositionProbe.train(tokens(h, w, c, false, 2, 60), new MapShape(c, h, w), PositionProbe.Settings.PAPER);
        int n = 12 * h * w;
        for (int g = 0; g < 4; g++) {
            double chance = r.chance()[g];
            double sigma = Math.sqrt(chance * (1 - chance) / n);
            assertThat(r.accuracy()[4][g]).as("grid " + PositionProbe.Settings.PAPER.grids().get(g))
                    .isLessThanOrEqualTo(chance + 4 * sigma);
        }
    }

    /** A 1×1 map (small images at the deepest blocks): nothing to learn, every prediction right, no failed step. */
    @org.junit.jupiter.api.Test
    void aMapOfOnePositionNeedsNoTraining() {
        PositionProbe.Result r = PositionProbe.train(tokens(1, 1, 8, false, 4, 10), new MapShape(8, 1, 1), PositionProbe.Settings.PAPER);
        assertThat(r.accuracy()[4]).containsExactly(1, 1, 1, 1);
        assertThat(r.chance()).containsExactly(1, 1, 1, 1);
        assertThat(r.train()).isEqualTo(8);
    }

    @ParameterizedTest
    @CsvSource({"12, 16, 48"})
    void theSameSeedGivesTheSameProbe(int h, int w, int c) {
        List<ImageMaps> t = tokens(h, w, c, true, 3, 20);
        PositionProbe.Settings s = new PositionProbe.Settings(2, 512, 1e-3f, 42, 0.8, List.of(4, 16));
        PositionProbe.Result a = PositionProbe.train(t, new MapShape(c, h, w), s);
        PositionProbe.Result b = PositionProbe.train(t, new MapShape(c, h, w), s);
        assertThat(b.loss()).containsExactly(a.loss());
        assertThat(b.accuracy()).isDeepEqualTo(a.accuracy());
    }
}
