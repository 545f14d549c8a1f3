package dev.unetlens.viz.repr;

import dev.unetlens.viz.FeatureMap;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * PCA against a known decomposition: features x_p = μ + a_p·u₁ + b_p·u₂ + c_p·u₃ with orthonormal u and scores
 * a, b, c that are zero-mean and orthogonal over the positions, so the components are ±u (in order of the scores'
 * variance), the scores come back, and the variances are ‖a‖²/(N−1), ….
 */
class PcaTest {
    // 8 positions (a 2×4 map): Walsh vectors, orthogonal and zero-mean, with norms² 72, 32, 8
    private static final double[] A = {3, 3, 3, 3, -3, -3, -3, -3};
    private static final double[] B = {2, 2, -2, -2, 2, 2, -2, -2};
    private static final double[] C = {1, -1, 1, -1, 1, -1, 1, -1};

    private static FeatureMap build(double[] mu, double[][] u) {
        int ch = mu.length;
        float[] v = new float[ch * 8];
        for (int c = 0; c < ch; c++) {
            for (int p = 0; p < 8; p++) {
                v[c * 8 + p] = (float) (mu[c] + A[p] * u[0][c] + B[p] * u[1][c] + C[p] * u[2][c]);
            }
        }
        return new FeatureMap(v, ch, 2, 4);
    }

    @Test
    void recoversComponentsScoresAndVariances() {
        // u₁ = (1, 1, 1, 1)/2, u₂ = (1, −1, 1, −1)/2, u₃ = (1, 1, −1, −1)/2: N = 8 > C = 4 (covariance path)
        double[][] u = {{.5, .5, .5, .5}, {.5, -.5, .5, -.5}, {.5, .5, -.5, -.5}};
        double[] mu = {10, -2, 0.5, 3};
        Pca pca = Pca.fit(List.of(build(mu, u)), 3);
        assertThat(pca.samples()).isEqualTo(8);
        assertThat(pca.mean()).containsExactly(mu, within(1e-6));
        for (int i = 0; i < 3; i++) {
            assertThat(pca.components()[i]).containsExactly(u[i], within(1e-6));   // sign rule: first max entry > 0
        }
        assertThat(pca.variance()).containsExactly(new double[] {72 / 7.0, 32 / 7.0, 8 / 7.0}, within(1e-5));
        assertThat(pca.explainedRatio()).containsExactly(new double[] {72 / 112.0, 32 / 112.0, 8 / 112.0},
                within(1e-6));
        float[][] scores = pca.project(build(mu, u));
        for (int p = 0; p < 8; p++) {
            assertThat((double) scores[0][p]).isCloseTo(A[p], within(1e-5));
            assertThat((double) scores[1][p]).isCloseTo(B[p], within(1e-5));
            assertThat((double) scores[2][p]).isCloseTo(C[p], within(1e-5));
        }
    }

    @Test
    void moreChannelsThanPositionsTakesTheGramPathToTheSameAnswer() {
        // C = 12 > N = 8: u embedded in 12 dimensions (entries 0.5 on 4 channels each, disjoint supports would
        // also do; these overlap to make it a real rotation)
        double[][] u = new double[3][12];
        double[][] base = {{.5, .5, .5, .5}, {.5, -.5, .5, -.5}, {.5, .5, -.5, -.5}};
        for (int i = 0; i < 3; i++) {
            for (int c = 0; c < 4; c++) {
                u[i][c * 3] = base[i][c];   // channels 0, 3, 6, 9
            }
        }
        double[] mu = new double[12];
        for (int c = 0; c < 12; c++) {
            mu[c] = c - 5;
        }
        Pca pca = Pca.fit(List.of(build(mu, u)), 3);
        for (int i = 0; i < 3; i++) {
            assertThat(pca.components()[i]).containsExactly(u[i], within(1e-6));
        }
        assertThat(pca.variance()).containsExactly(new double[] {72 / 7.0, 32 / 7.0, 8 / 7.0}, within(1e-5));
        assertThat(pca.totalVariance()).isCloseTo(112 / 7.0, within(1e-5));
    }

    @Test
    void sharedFitPoolsThePositionsOfAllMaps() {
        // the same map twice: the same components, twice the samples, variances ×(N−1)/(2N−1)·2 = 14/15
        double[][] u = {{.5, .5, .5, .5}, {.5, -.5, .5, -.5}, {.5, .5, -.5, -.5}};
        FeatureMap m = build(new double[] {0, 0, 0, 0}, u);
        Pca pca = Pca.fit(List.of(m, m), 2);
        assertThat(pca.samples()).isEqualTo(16);
        assertThat(pca.components()[0]).containsExactly(u[0], within(1e-6));
        assertThat(pca.variance()[0]).isCloseTo(2 * 72 / 15.0, within(1e-5));
    }

    @Test
    void signRuleMakesTheFirstLargestEntryPositive() {
        double[] v = {0.1, -0.7, 0.7, 0.1};
        Pca.fixSign(v);
        assertThat(v).containsExactly(-0.1, 0.7, -0.7, -0.1);
    }

    @Test
    void refusesMixedChannelCounts() {
        assertThatThrownBy(() -> Pca.fit(List.of(new FeatureMap(new float[8], 2, 2, 2),
                new FeatureMap(new float[12], 3, 2, 2)), 1)).hasMessageContaining("fit one module at a time");
    }
}
