package dev.unetlens.analysis.paper;

import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.Planted;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.extract.ImageFeatures;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The atlas on planted maps: patches that stay, move a token, jump, or are absent, over two seeds and two timesteps. */
class AnomalyAtlasTest {
    /** Where image i has its patch under seed s at timestep t (null: none). */
    static int[] patch(int image, long seed, int t) {
        if (t != 50) {
            return null;
        }
        return switch (image) {
            case 0 -> seed == 1 ? new int[] {5, 5} : new int[] {6, 5};      // moves one token: the same place
            case 1 -> seed == 1 ? new int[] {2, 2} : new int[] {10, 10};    // jumps: another place
            default -> null;
        };
    }

    @Test
    void rateAndStabilityAreAsPlanted() {
        int c = 320;
        List<Map<String, MapShape>> shapes = List.of(Map.of("m", new MapShape(c, 16, 16)), Map.of("m", new MapShape(c, 16, 16)),
                Map.of("m", new MapShape(c, 16, 16)));
        Sampling s = new Sampling(List.of("m"), List.of(50, 500), 1, 1, 0, "", ImageFeatures.Latent.MEAN, false);
        AnomalyAtlas.Options o = new AnomalyAtlas.Options(s, List.of(1L, 2L), AnomalyDetector.DEFAULT_K);
        AnomalyAtlas.Collector collector = new AnomalyAtlas.Collector(shapes, o.k());
        for (long seed : o.seeds()) {
            collector.seed(seed);
            Random r = new Random(seed);
            Planted.feed(collector, shapes, s.timesteps(), 1, 1, (image, t, point, draw, ch, h, w) -> {
                int[] p = patch(image, seed, t);
                boolean in = p != null && h >= p[0] && h < p[0] + 2 && w >= p[1] && w < p[1] + 2;
                return r.nextGaussian() * (in ? 3 : 1);
            });
        }
        AnomalyAtlas.Result a = AnomalyAtlas.result(o, List.of("a", "b", "c"), collector);
        assertThat(a.rate()[0][0]).isCloseTo(4.0 / 6, within(1e-12));      // images 0 and 1 under both seeds
        assertThat(a.stability()[0][0]).isCloseTo(0.5, within(1e-12));     // image 0's patches recur, image 1's do not
        assertThat(a.patches()[0][0]).isEqualTo(4);
        assertThat(a.rate()[0][1]).isZero();
        assertThat(a.stability()[0][1]).isNaN();
    }

    @Test
    void seedListsParse() {
        assertThat(AnomalyAtlas.parseSeeds("1, 2,5")).containsExactly(1L, 2L, 5L);
        assertThat(AnomalyAtlas.parseSeeds("0-3")).containsExactly(0L, 1L, 2L, 3L);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> AnomalyAtlas.parseSeeds("a"))
                .hasMessage("--seeds takes seeds like 1,2,3 or a range 0-9, got 'a'");
    }
}
