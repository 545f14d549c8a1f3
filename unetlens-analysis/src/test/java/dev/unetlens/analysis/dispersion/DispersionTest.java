package dev.unetlens.analysis.dispersion;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.Planted;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.extract.ImageFeatures;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Dispersion of constructed draws with planted variance. */
class DispersionTest {
    @TempDir
    Path tmp;

    private static Sampling sampling(List<String> points, List<Integer> ts, int n) {
        return new Sampling(points, ts, n, 3, 0, "", ImageFeatures.Latent.MEAN, false);
    }

    /**
     * Draw k is base + σ·(−1)^k over an even number n of draws, so the unbiased std is σ·√(n/(n−1)). Module "a"
     * (2 channels, 4×4): σ = row + 1 in channel 0, 0 in channel 1; module "b" (1 channel, 2×2, repeated to 4×4 by
     * concat): σ = 3. The map is the mean over the 3 channels: (row + 1 + 0 + 3)/3 · √(n/(n−1)), times t/50 at
     * timestep t.
     */
    @Test
    void plantedVarianceThroughConcat() throws Exception {
        int n = 10;
        Map<String, MapShape> one = new LinkedHashMap<>();
        one.put("a", new MapShape(2, 4, 4));
        one.put("b", new MapShape(1, 2, 2));
        List<Map<String, MapShape>> shapes = List.of(one, one);
        Dispersion.Options o = new Dispersion.Options(sampling(List.of("a", "b"), List.of(50, 100, 150), n), 50, 0, 4);
        List<Dispersion.ImageResult> images = new ArrayList<>();
        Dispersion.Accumulator acc = new Dispersion.Accumulator(o, shapes, List.of("x", "y"), images::add);
        Planted.feed(acc, shapes, List.of(50, 100, 150), n, 3, (i, t, p, k, c, h, w) -> {
            double sigma = p.equals("a") ? (c == 0 ? h + 1 : 0) : 3;
            return 5 + c + w + (t / 50.0) * sigma * (k % 2 == 0 ? -1 : 1) * (i + 1);
        });
        double f = Math.sqrt(n / (n - 1.0));
        assertThat(images).hasSize(2);
        for (Dispersion.ImageResult r : images) {
            assertThat(r.height()).isEqualTo(4);
            assertThat(r.width()).isEqualTo(4);
            for (int t = 0; t < 3; t++) {
                double mean = 0;
                for (int h = 0; h < 4; h++) {
                    double expected = (t + 1) * (r.index() + 1) * (h + 1 + 3) / 3.0 * f;
                    for (int w = 0; w < 4; w++) {
                        assertThat(r.maps()[t][h * 4 + w]).isCloseTo(expected, within(1e-5 * expected));
                    }
                    mean += expected / 4;
                }
                assertThat(r.meanStd()[t]).isCloseTo(mean, within(1e-5 * mean));
            }
        }
        Dispersion.Result result = acc.result();
        assertThat(result.channels()).isEqualTo(3);
        assertThat(result.meanOverImages()[0]).isCloseTo((images.get(0).meanStd()[0] + images.get(1).meanStd()[0]) / 2, within(1e-12));

        OutputDirectory out = Planted.pictures(tmp, "dispersion-planted");
        RgbImage img = dev.unetlens.golden.TestImages.gradient(64, 64);
        for (Dispersion.ImageResult r : images) {
            DispersionReport.picture(r, img, o).write(out, "dispersion/" + r.name() + "_t50");
        }
        DispersionReport.write(result, JsonNodeFactory.instance.objectNode(), out);
        assertThat(Planted.checkPictures(out)).isEqualTo(3);
    }

    /**
     * Sizes that are not multiples: a 4×4 and a 3×3 module; concat doubles 3 to 6, repeats the 3×3 map twice and
     * the 4×4 map once, zero-padding its rows and columns 4–5 (std 0 there).
     */
    @Test
    void zeroPaddingWhereSizesAreNotMultiples() {
        Map<String, MapShape> one = new LinkedHashMap<>();
        one.put("p", new MapShape(1, 4, 4));
        one.put("q", new MapShape(1, 3, 3));
        Dispersion.Options o = new Dispersion.Options(sampling(List.of("p", "q"), List.of(0), 4), 0, 0, 4);
        List<Dispersion.ImageResult> images = new ArrayList<>();
        Dispersion.Accumulator acc = new Dispersion.Accumulator(o, List.of(one), List.of("x"), images::add);
        Planted.feed(acc, List.of(one), List.of(0), 4, 4, (i, t, p, k, c, h, w) -> (p.equals("p") ? 2 : 6) * (k % 2 == 0 ? -1 : 1));
        double f = Math.sqrt(4 / 3.0);
        double[] map = images.getFirst().maps()[0];
        assertThat(images.getFirst().height()).isEqualTo(6);
        for (int h = 0; h < 6; h++) {
            for (int w = 0; w < 6; w++) {
                double expected = ((h < 4 && w < 4 ? 2 : 0) + 6) / 2.0 * f;
                assertThat(map[h * 6 + w]).as("(%d, %d)", h, w).isCloseTo(expected, within(1e-5));
            }
        }
    }

    @Test
    void optionsAreChecked() {
        assertThatThrownBy(() -> new Dispersion.Options(sampling(List.of("a"), List.of(50), 1), 50, 0, 4))
                .isInstanceOf(UnetlensException.class).hasMessageContaining("at least 2 noise draws");
        assertThatThrownBy(() -> new Dispersion.Options(sampling(List.of("a"), List.of(0, 100), 4), 50, 0, 4))
                .hasMessage("--map-timestep 50 is not one of the timesteps [0, 100]");
    }
}
