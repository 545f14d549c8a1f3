package dev.unetlens.analysis.similarity;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.Planted;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.extract.ImageFeatures;
import dev.unetlens.io.Npy;
import dev.unetlens.io.OutputDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Token similarity of constructed maps with a planted answer. */
class TokenSimilarityTest {
    @TempDir
    Path tmp;

    private static TokenSimilarity.Options options(int row, int col, Measure m, boolean all) {
        return new TokenSimilarity.Options(new Sampling(List.of("m"), List.of(50), 4, 4, 0, "", ImageFeatures.Latent.MEAN, false),
                row, col, m, all);
    }

    /**
     * Image A's token (1, 2) is e₀; image B's tokens are e₁ everywhere except (0, 1) = 2·e₀ and (1, 0) = −e₀; draws add
     * ±0.5 alternately (the mean is the planted token). Cosine: 1 at (0, 1), −1 at (1, 0), 0 elsewhere.
     */
    @Test
    void plantedTokens() throws Exception {
        Map<String, MapShape> s = Map.of("m", new MapShape(3, 2, 3));
        TokenSimilarity.Options o = options(1, 2, Measure.COSINE, true);
        TokenSimilarity.Accumulator acc = new TokenSimilarity.Accumulator(o, List.of(s, s));
        Planted.feed(acc, List.of(s, s), List.of(50), 4, 4, (i, t, p, k, c, h, w) -> {
            double noise = (k % 2 == 0 ? 0.5 : -0.5);
            if (i == 0) {
                return (h == 1 && w == 2 ? (c == 0 ? 1 : 0) : (c == 2 ? 1 : 0)) + noise;
            }
            if (h == 0 && w == 1) {
                return (c == 0 ? 2 : 0) + noise;
            }
            if (h == 1 && w == 0) {
                return (c == 0 ? -1 : 0) + noise;
            }
            return (c == 1 ? 1 : 0) + noise;
        });
        TokenSimilarity.Result r = acc.result("A", "B");
        double[] map = r.results().getFirst().map();
        assertThat(map).containsExactly(new double[] {0, 1, 0, -1, 0, 0}, within(1e-9));
        float[] all = r.results().getFirst().allTokens();
        assertThat(all).hasSize(36);
        assertThat(all[5 * 6 + 1]).isCloseTo(1f, within(1e-6f));          // A's (1, 2) against B's (0, 1)
        assertThat(all[5 * 6 + 3]).isCloseTo(-1f, within(1e-6f));
        assertThat(SimilarityReport.best(r, r.results().getFirst())).isEqualTo(1);

        OutputDirectory out = Planted.pictures(tmp, "similarity-planted");
        var img = dev.unetlens.golden.TestImages.gradient(96, 64);
        SimilarityReport.write(r, img, img, JsonNodeFactory.instance.objectNode(), out);
        assertThat(Planted.checkPictures(out)).isEqualTo(1);
        assertThat(Npy.read(out.dir().resolve("similarity_t50.npy")).shape()).containsExactly(2, 3);
        assertThat(Npy.read(out.dir().resolve("cosine_all_tokens_t50.npy")).shape()).containsExactly(2, 3, 2, 3);
    }

    @Test
    void theTokenMustBeOnTheMap() {
        assertThatThrownBy(() -> TokenSimilarity.checkToken(options(2, 0, Measure.COSINE, false), Map.of("m", new MapShape(3, 2, 3))))
                .isInstanceOf(UnetlensException.class)
                .hasMessage("--token 2,0 is outside the 2×3 map of m (rows 0–1, columns 0–2)");
    }
}
