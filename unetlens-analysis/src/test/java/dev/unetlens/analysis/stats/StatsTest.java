package dev.unetlens.analysis.stats;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The streaming accumulators on data whose answer is known in closed form. */
class StatsTest {
    /**
     * Draws with a planted variance: element i of draw k is offset_i + s_i·z_k with z = (−1, +1, −1, +1, …) over an
     * even number of draws, so the mean is offset_i and the unbiased variance s_i²·n/(n − 1) exactly; the offset
     * (10⁴) would cancel a sum-of-squares formula in float32 but not Welford in float64.
     */
    @ParameterizedTest(name = "{0} draws")
    @ValueSource(ints = {2, 10, 100, 1000})
    void welfordFindsAPlantedVariance(int n) {
        float[] scales = {0f, 0.5f, 1f, 4f};
        Welford w = new Welford(scales.length);
        for (int k = 0; k < n; k += 2) {                 // two draws per batch
            float[] batch = new float[2 * scales.length];
            for (int r = 0; r < 2; r++) {
                for (int i = 0; i < scales.length; i++) {
                    batch[r * scales.length + i] = 10_000f + (r == 0 ? -scales[i] : scales[i]);
                }
            }
            w.add(batch, 2);
        }
        assertThat(w.count()).isEqualTo(n);
        double[] var = w.variance(1);
        double[] std = w.std(0);
        for (int i = 0; i < scales.length; i++) {
            assertThat(w.mean()[i]).isCloseTo(10_000, within(1e-9));
            assertThat(var[i]).isCloseTo((double) scales[i] * scales[i] * n / (n - 1), within(1e-9));
            assertThat(std[i]).isCloseTo(scales[i], within(1e-9));
        }
    }

    /** Random draws: Welford agrees with the two-pass formula in float64. */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void welfordEqualsTwoPass(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 37;
        int size = 5;
        float[] all = new float[n * size];
        for (int i = 0; i < all.length; i++) {
            all[i] = (float) (r.nextGaussian() * (1 + i % size) + 3);
        }
        Welford w = new Welford(size);
        for (int k = 0; k < n; k += 4) {
            int rows = Math.min(4, n - k);
            w.add(java.util.Arrays.copyOfRange(all, k * size, (k + rows) * size), rows);
        }
        for (int i = 0; i < size; i++) {
            double mean = 0;
            for (int k = 0; k < n; k++) {
                mean += all[k * size + i];
            }
            mean /= n;
            double ss = 0;
            for (int k = 0; k < n; k++) {
                ss += (all[k * size + i] - mean) * (all[k * size + i] - mean);
            }
            assertThat(w.variance(1)[i]).isCloseTo(ss / (n - 1), within(1e-12 * ss));
        }
        Welford one = new Welford(1);
        one.add(new float[] {1}, 1);
        assertThatThrownBy(() -> one.variance(1)).hasMessageContaining("more than 1");
    }

    @Test
    void runningMeanAndChannelReductions() {
        RunningMean m = new RunningMean(2);
        m.add(new float[] {1, 2, 3, 4}, 2);
        m.add(new double[] {5, 6});
        assertThat(m.mean()).containsExactly(3, 4);
        assertThat(m.count()).isEqualTo(3);
        // 1 row, 2 channels of 2 positions: |−1|,|3| → 2; |2|,|−4| → 3
        assertThat(Maps.meanAbsPerChannel(new float[] {-1, 3, 2, -4}, 1, 2, 2)).containsExactly(2, 3);
        assertThat(Maps.meanOverChannels(new double[] {1, 2, 3, 6}, 2)).containsExactly(2, 4);
    }

    /**
     * Channels with planted scales 1, 2, 4, …, 2⁹: max/min = 512, the median (16 + 32)/2 = 24, and the largest alone
     * holds half of the total 1023 (512 ≥ 511.5). Scales 1 … 10: half of 55 needs the largest four (10 + 9 + 8 = 27
     * falls short, + 7 = 34).
     */
    @Test
    void magnitudeSummaryOfPlantedScales() {
        double[] m = new double[10];
        for (int c = 0; c < m.length; c++) {
            m[(c * 7) % 10] = Math.pow(2, c);             // shuffled
        }
        MagnitudeSummary s = MagnitudeSummary.of(m);
        assertThat(s.max()).isEqualTo(512);
        assertThat(s.min()).isEqualTo(1);
        assertThat(s.median()).isEqualTo(24);
        assertThat(s.maxOverMin()).isEqualTo(512);
        assertThat(s.maxOverMedian()).isCloseTo(512 / 24.0, within(1e-12));
        assertThat(s.channelsForHalf()).isEqualTo(1);
        assertThat(MagnitudeSummary.of(new double[] {4, 9, 1, 10, 7, 2, 8, 3, 6, 5}).channelsForHalf()).isEqualTo(4);
        assertThat(MagnitudeSummary.sortedDescending(m)).startsWith(512, 256, 128).endsWith(2, 1);
        // equal channels: half of them hold half
        assertThat(MagnitudeSummary.of(new double[] {3, 3, 3, 3}).channelsForHalf()).isEqualTo(2);
    }

    /**
     * Values 10⁰ … 10⁴ on 4 log bins: edges at each power of ten; each bin [10^k, 10^(k+1)) gets one value and the
     * last also its right edge (numpy's rule); zero is left out.
     */
    @Test
    void logHistogramUsesNumpysBins() {
        LogHistogram h = LogHistogram.of(new double[] {1, 10, 100, 1000, 10_000, 0, 5}, 4);
        assertThat(h.edges()).hasSize(5);
        for (int k = 0; k <= 4; k++) {
            assertThat(h.edges()[k]).isCloseTo(Math.pow(10, k), within(1e-9 * Math.pow(10, k)));
        }
        assertThat(h.counts()).containsExactly(2, 1, 1, 2);
        assertThat(h.excluded()).isEqualTo(1);
        assertThat(LogHistogram.of(new double[] {2, 2}, 3).counts()).containsExactly(0, 0, 2);
    }
}
