package dev.unetlens.analysis.paper;

import dev.unetlens.analysis.paper.AnomalyLabels.Label;
import dev.unetlens.analysis.paper.PaperMaps.ImageMaps;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The paper's arithmetic on constructed maps with a planted answer, and against plain float64 recomputations:
 * group similarities (plain and ring dropped) and the anomaly window ratio at every module scale.
 */
class PaperArithmeticTest {
    /** Gaussian [C, H, W]. */
    static float[] noise(Random r, int c, int h, int w) {
        float[] x = new float[c * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    /** The textbook version: cosine of every pair, mean over the pairs of two groups, self-pairs left out. */
    static double[][] pairwise(float[] x, int c, int h, int w, int ring) {
        int p = h * w;
        double[][] sum = new double[3][3];
        long[][] n = new long[3][3];
        int ih = h - 2 * ring;
        int iw = w - 2 * ring;
        for (int a = 0; a < ih * iw; a++) {
            for (int b = 0; b < ih * iw; b++) {
                if (a == b) {
                    continue;
                }
                int pa = (a / iw + ring) * w + a % iw + ring;
                int pb = (b / iw + ring) * w + b % iw + ring;
                double dot = 0;
                double na = 0;
                double nb = 0;
                for (int k = 0; k < c; k++) {
                    double u = x[k * p + pa];
                    double v = x[k * p + pb];
                    dot += u * v;
                    na += u * u;
                    nb += v * v;
                }
                int ga = TokenGroups.group(a / iw, a % iw, ih, iw);
                int gb = TokenGroups.group(b / iw, b % iw, ih, iw);
                sum[ga][gb] += dot / Math.sqrt(na * nb);
                n[ga][gb]++;
            }
        }
        double[][] m = new double[3][3];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                m[i][j] = sum[i][j] / n[i][j];
            }
        }
        return m;
    }

    @ParameterizedTest
    @CsvSource({"7, 5, 5, 1", "16, 8, 12, 2", "3, 9, 6, 3", "32, 6, 6, 4"})
    void groupSimilarityEqualsThePairwiseFloat64Mean(int c, int h, int w, long seed) {
        float[] x = noise(new Random(seed), c, h, w);
        for (int i = 0; i < x.length; i += 3) {
            x[i] += 0.7f;                                    // correlated tokens: means far from 0
        }
        for (int ring = 0; ring <= 1; ring++) {
            double[][] got = TokenGroups.of(x, 0, c, h, w, ring).means();
            double[][] want = pairwise(x, c, h, w, ring);
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    assertThat(got[i][j]).as("ring " + ring + " [" + i + "][" + j + "]").isCloseTo(want[i][j], within(1e-12));
                }
            }
        }
    }

    /**
     * Corners identical (e0), borders identical (e1), every inside token e0 + its own axis: corner-corner = 1,
     * border-border = 1, corner-border = 0, corner-other = 1/√2, border-other = 0, other-other = 1/2; tokens scaled by
     * random positive factors (cosine does not see them). Inside the ring every token is an "other" of the full map:
     * every pair there is 1/2.
     */
    @ParameterizedTest
    @CsvSource({"6, 6", "5, 9", "10, 7"})
    void identicalCornersGiveCornerCornerOneAndTheRestAsConstructed(int h, int w) {
        int p = h * w;
        int c = p + 2;
        float[] x = new float[c * p];
        Random r = new Random(h * 31 + w);
        for (int row = 0; row < h; row++) {
            for (int col = 0; col < w; col++) {
                int at = row * w + col;
                float scale = (float) (0.1 + 5 * r.nextDouble());
                switch (TokenGroups.group(row, col, h, w)) {
                    case TokenGroups.CORNER -> x[at] = scale;
                    case TokenGroups.BORDER -> x[p + at] = scale;
                    default -> {
                        x[at] = scale;
                        x[(2 + at) * p + at] = scale;
                    }
                }
            }
        }
        double[][] m = TokenGroups.of(x, 0, c, h, w, 0).means();
        double s = Math.sqrt(0.5);
        double[][] want = {{1, 0, s}, {0, 1, 0}, {s, 0, 0.5}};
        double[][] inner = TokenGroups.of(x, 0, c, h, w, 1).means();
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                assertThat(m[i][j]).as("[" + i + "][" + j + "]").isCloseTo(want[i][j], within(1e-6));
                if (h > 4 && w > 4) {
                    assertThat(inner[i][j]).as("ring dropped [" + i + "][" + j + "]").isCloseTo(0.5, within(1e-6));
                }
            }
        }
    }

    /**
     * A 2×2 patch planted at the reference map (16 × 24 tokens) at (x, y), reproduced at each module scale as the
     * tokens whose extent overlaps the patch's, norm {@code a} inside, {@code b} outside: the paper's window
     * arithmetic gives a over the map's mean norm at every scale from 1/4 to 4.
     */
    @ParameterizedTest
    @CsvSource({"0, 0", "4, 8", "20, 12", "8, 4", "12, 0"})
    void theWindowArithmeticGivesThePlantedRatioAtEveryScale(int x, int y) {
        int refH = 16;
        int refW = 24;
        double a = 7.5;
        double b = 1.25;
        for (double s : new double[] {0.25, 0.5, 1, 2, 4}) {
            int h = (int) (refH * s);
            int w = (int) (refW * s);
            double[] norms = new double[h * w];
            int inside = 0;
            for (int r = 0; r < h; r++) {
                for (int c = 0; c < w; c++) {
                    boolean in = r / s < y + 2 && (r + 1) / s > y && c / s < x + 2 && (c + 1) / s > x;
                    norms[r * w + c] = in ? a : b;
                    inside += in ? 1 : 0;
                }
            }
            double mean = (a * inside + b * (h * w - inside)) / (h * w);
            double got = AnomalyWindow.of(x, y, h, refH).ratio(new NormMap(norms, h, w));
            assertThat(got).as("scale " + s).isCloseTo(a / mean, within(1e-12));
        }
    }

    /** The paper's formulas literally: int(y·s), int(2s) at least 1, numpy slices cut at the edge. */
    @ParameterizedTest
    @CsvSource({"31, 31, 8, 32, 7, 7, 1", "31, 30, 64, 32, 60, 62, 4", "3, 5, 16, 32, 2, 1, 1", "63, 0, 64, 64, 0, 63, 2"})
    void theWindowIsThePapersSlice(int x, int y, int h, int refH, int row, int col, int size) {
        AnomalyWindow win = AnomalyWindow.of(x, y, h, refH);
        assertThat(win).isEqualTo(new AnomalyWindow(row, col, size));
        double[] norms = new double[h * h];
        for (int i = 0; i < norms.length; i++) {
            norms[i] = 1 + i % 7;
        }
        double s = 0;
        int n = 0;
        for (int r = row; r < Math.min(h, row + size); r++) {
            for (int c = col; c < Math.min(h, col + size); c++) {
                s += norms[r * h + c];
                n++;
            }
        }
        double mean = java.util.Arrays.stream(norms).average().orElseThrow();
        assertThat(win.ratio(new NormMap(norms, h, h))).isCloseTo(s / n / mean, within(1e-12));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 5, 64})
    void normMapsAreFloat64NormsOverChannels(int c) {
        float[] x = noise(new Random(c), c, 3, 4);
        NormMap m = NormMap.of(x, 0, c, 3, 4);
        for (int p = 0; p < 12; p++) {
            double s = 0;
            for (int k = 0; k < c; k++) {
                s += (double) x[k * 12 + p] * x[k * 12 + p];
            }
            assertThat(m.norms()[p]).isCloseTo(Math.sqrt(s), within(1e-12));
        }
    }

    /** Ratios over labels: numpy's mean and (population) std; a window at each module of a planted map. */
    @org.junit.jupiter.api.Test
    void ratiosOverLabelsAreTheMeanAndPopulationStd() {
        double[] n1 = new double[16];
        java.util.Arrays.fill(n1, 1);
        n1[0] = 4;                                   // (x 0, y 0) window at 4×4, ref 4: 1 token
        double[] n2 = new double[16];
        java.util.Arrays.fill(n2, 2);
        List<ImageMaps> maps = List.of(new ImageMaps(0, new NormMap(n1, 4, 4), null, null, null),
                new ImageMaps(1, new NormMap(n2, 4, 4), null, null, null));
        Anomalies.Ratio r = Anomalies.ratios(maps, List.of(new Label(0, 0, 0), new Label(1, 3, 3)), 8);
        double first = 4 / (19.0 / 16);
        assertThat(r.values()).containsExactly(first, 1.0);
        assertThat(r.mean()).isCloseTo((first + 1) / 2, within(1e-12));
        assertThat(r.std()).isCloseTo(Math.abs(first - 1) / 2, within(1e-12));
    }
}
