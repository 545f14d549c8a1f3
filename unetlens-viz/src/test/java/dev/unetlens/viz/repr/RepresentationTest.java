package dev.unetlens.viz.repr;

import dev.unetlens.viz.FeatureMap;
import dev.unetlens.viz.Plane;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Cosine similarity, token norms and PCA colouring on small hand-worked maps. */
class RepresentationTest {
    /** 2 channels on a 1×4 map: position vectors (1, 0), (0, 2), (−3, 0), (1, 1). */
    private static final FeatureMap MAP = new FeatureMap(new float[] {1, 0, -3, 1, 0, 2, 0, 1}, 2, 1, 4);

    @Test
    void cosineSimilarityToAPosition() {
        Plane s = CosineSimilarity.map(MAP, 0, 0, MAP);
        // to (1, 0): 1, 0, −1, 1/√2
        assertThat(s.values()).containsExactly(new float[] {1, 0, -1, (float) (1 / Math.sqrt(2))}, within(1e-6f));
        Plane t = CosineSimilarity.map(MAP, 0, 3, MAP);
        // to (1, 1): 1/√2, 2/(2√2), −3/(3√2), 1
        float r = (float) (1 / Math.sqrt(2));
        assertThat(t.values()).containsExactly(new float[] {r, r, -r, 1}, within(1e-6f));
    }

    @Test
    void zeroVectorsAreNotSimilarToAnything() {
        FeatureMap z = new FeatureMap(new float[] {0, 1, 0, 1}, 2, 1, 2);   // (0, 0) and (1, 1)
        assertThat(CosineSimilarity.map(z, 0, 0, z).values()).containsExactly(0, 0);
    }

    @Test
    void tokenNormsAreEuclidean() {
        assertThat(TokenNorms.map(MAP).values())
                .containsExactly(new float[] {1, 2, 3, (float) Math.sqrt(2)}, within(1e-6f));
    }

    @Test
    void histogramCountsEveryPosition() {
        var chart = TokenNorms.histogram(MAP, dev.unetlens.viz.MapLabel.of("mid_block"), 4);
        // norms 1, 2, 3, 1.41 over [1, 3] in 4 bins of 0.5: [1, 1.5) holds 1 and 1.41, [2, 2.5) holds 2, 3 is last
        assertThat(chart.fields().get("counts")).isEqualTo(List.of(2L, 0L, 1L, 1L));
    }

    @Test
    void pcaColoursScoresBetweenTheirQuantiles() {
        // one component, scores −1, 0, 1, 3 over a 1×4 map, clip 0: min–max → 0, 0.25, 0.5, 1 → 0, 64, 128, 255
        float[][] scores = {{-1, 0, 1, 3}};
        var img = PcaRgb.toRgb(scores, PcaRgb.bounds(List.<float[][]>of(scores), 0), 1, 4);
        assertThat(img.getRGB(0, 0) & 0xffffff).isEqualTo(0);
        assertThat(img.getRGB(1, 0) & 0xffffff).isEqualTo(64 << 16);
        assertThat(img.getRGB(2, 0) & 0xffffff).isEqualTo(128 << 16);
        assertThat(img.getRGB(3, 0) & 0xffffff).isEqualTo(255 << 16);
        // numpy's linear quantile of sorted [−1, 0, 1, 3] at 0.25: position 0.75 → −0.25
        assertThat(PcaRgb.quantile(new float[] {-1, 0, 1, 3}, 0.25)).isCloseTo(-0.25, within(1e-9));
    }
}
