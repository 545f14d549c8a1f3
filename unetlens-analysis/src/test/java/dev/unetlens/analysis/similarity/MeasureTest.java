package dev.unetlens.analysis.similarity;

import dev.unetlens.UnetlensException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The seven measures on tokens with planted answers. */
class MeasureTest {
    private static final double EPS = Measure.EPS;

    /** Tokens given as vectors (one per position, row-major) of a 1 × n map. */
    private static Tokens row(double[]... tokens) {
        int c = tokens[0].length;
        int n = tokens.length;
        double[] v = new double[c * n];
        for (int p = 0; p < n; p++) {
            for (int k = 0; k < c; k++) {
                v[k * n + p] = tokens[p][k];
            }
        }
        return new Tokens(v, c, 1, n);
    }

    // A: the reference a = (3, 4) (‖a‖ = 5) and (1, 0); B: (3, 4), (−3, −4), (4, −3), (6, 8)
    private static final Tokens A = row(new double[] {3, 4}, new double[] {1, 0});
    private static final Tokens B = row(new double[] {3, 4}, new double[] {-3, -4}, new double[] {4, -3}, new double[] {6, 8});

    @Test
    void cosine() {
        // a·b = 25, −25, 0, 50; ‖a‖‖b‖ = 25, 25, 25, 50
        assertThat(Measure.COSINE.map(A, 0, B)).containsExactly(new double[] {25 / (25 + EPS), -25 / (25 + EPS), 0, 50 / (50 + EPS)}, within(1e-15));
    }

    @Test
    void cosineCentered() {
        // mᴬ = (2, 2), mᴮ = (2.5, 1.25); m = (2.25, 1.625); a − m = (0.75, 2.375)
        double[] m = {2.25, 1.625};
        double[] am = {3 - m[0], 4 - m[1]};
        double[][] b = {{3, 4}, {-3, -4}, {4, -3}, {6, 8}};
        double[] expected = new double[4];
        for (int q = 0; q < 4; q++) {
            double bx = b[q][0] - m[0];
            double by = b[q][1] - m[1];
            expected[q] = (am[0] * bx + am[1] * by) / (Math.hypot(am[0], am[1]) * Math.hypot(bx, by) + EPS);
        }
        assertThat(Measure.COSINE_CENTERED.map(A, 0, B)).containsExactly(expected, within(1e-14));
        assertThat(expected[0]).isCloseTo(1, within(1e-9));   // b = a: 1 after centring too
    }

    @Test
    void dotProduct() {
        // a·b = 25, −25, 0, 50; the largest |a·b| is 50
        assertThat(Measure.DOT_PRODUCT.map(A, 0, B)).containsExactly(new double[] {25 / (50 + EPS), -25 / (50 + EPS), 0, 50 / (50 + EPS)}, within(1e-15));
    }

    @Test
    void distances() {
        // a − b = (0, 0), (6, 8), (−1, 7), (−3, −4)
        // manhattan d = 0, 14, 8, 7 → 1 − d/14; euclidean d = 0, 10, √50, 5 → 1 − d/10; chebyshev 0, 8, 7, 4 → 1 − d/8
        assertThat(Measure.MANHATTAN.map(A, 0, B)).containsExactly(new double[] {1, 0, 1 - 8 / 14.0, 1 - 7 / 14.0}, within(1e-15));
        assertThat(Measure.EUCLIDEAN.map(A, 0, B)).containsExactly(new double[] {1, 0, 1 - Math.sqrt(50) / 10, 0.5}, within(1e-15));
        assertThat(Measure.CHEBYSHEV.map(A, 0, B)).containsExactly(new double[] {1, 0, 1 - 7 / 8.0, 0.5}, within(1e-15));
    }

    @Test
    void relativeL2Norm() {
        // ‖b‖ − ‖a‖ = 0, 0, 0, 5; the largest |·| is 5; from a = (1, 0): 4, 4, 4, 9 over 9
        assertThat(Measure.REL_L2_NORM.map(A, 0, B)).containsExactly(new double[] {0, 0, 0, 5 / (5 + EPS)}, within(1e-15));
        assertThat(Measure.REL_L2_NORM.map(A, 1, B)).containsExactly(new double[] {4 / (9 + EPS), 4 / (9 + EPS), 4 / (9 + EPS), 9 / (9 + EPS)}, within(1e-15));
    }

    /**
     * On random maps, every measure of a map against itself is at its top at the reference token: 1 for the
     * cosines and distances, and the values stay within [−1, 1].
     */
    @ParameterizedTest
    @EnumSource(Measure.class)
    void selfSimilarityOnRandomMaps(Measure measure) {
        SplittableRandom r = new SplittableRandom(measure.ordinal());
        double[] v = new double[16 * 5 * 7];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextGaussian();
        }
        Tokens t = new Tokens(v, 16, 5, 7);
        int ref = 2 * 7 + 3;
        double[] m = measure.map(t, ref, t);
        assertThat(m).hasSize(35);
        for (double x : m) {
            assertThat(x).isBetween(-1.0, 1.0);
        }
        switch (measure) {
            case COSINE, COSINE_CENTERED, MANHATTAN, EUCLIDEAN, CHEBYSHEV -> assertThat(m[ref]).isCloseTo(1, within(1e-9));
            case REL_L2_NORM -> assertThat(m[ref]).isZero();
            case DOT_PRODUCT -> assertThat(m[ref]).isPositive();
        }
    }

    @Test
    void namesAreTheExplorers() {
        assertThat(Measure.parse("dot-product")).isEqualTo(Measure.DOT_PRODUCT);
        assertThat(Measure.parse("cosine_centered")).isEqualTo(Measure.COSINE_CENTERED);
        assertThat(Measure.parse("REL_L2_NORM")).isEqualTo(Measure.REL_L2_NORM);
        assertThatThrownBy(() -> Measure.parse("jaccard")).isInstanceOf(UnetlensException.class)
                .hasMessage("unknown measure 'jaccard'; choose cosine, cosine_centered, dot-product, manhattan, euclidean, chebyshev, rel-l2-norm");
    }
}
