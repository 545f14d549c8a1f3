package dev.unetlens.analysis.channels;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.Planted;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.stats.MagnitudeSummary;
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

/** Channel magnitudes of constructed representations with planted channel scales. */
class ChannelMagnitudesTest {
    @TempDir
    Path tmp;

    static Sampling sampling(List<String> points, List<Integer> timesteps, int samples) {
        return new Sampling(points, timesteps, samples, 2, 0, "", ImageFeatures.Latent.MEAN, false);
    }

    /**
     * Channel c of module "m" has |x| = s_c = 2^(c/2) everywhere (signs alternate over positions and draws), twice that
     * at t = 100; module "n" has 3 channels of scale 1, 1, 10: the channel means are the planted scales over 2 images
     * × 5 draws, and the summaries follow in closed form.
     */
    @Test
    void plantedChannelScales() throws Exception {
        List<Map<String, MapShape>> shapes = List.of(
                Map.of("m", new MapShape(8, 4, 4), "n", new MapShape(3, 2, 2)),
                Map.of("m", new MapShape(8, 4, 4), "n", new MapShape(3, 2, 2)));
        ChannelMagnitudes.Options o = new ChannelMagnitudes.Options(sampling(List.of("m", "n"), List.of(0, 100), 5), 100, 50);
        ChannelMagnitudes.Accumulator acc = new ChannelMagnitudes.Accumulator(o, shapes);
        Planted.feed(acc, shapes, List.of(0, 100), 5, 2, (i, t, p, k, c, h, w) -> {
            double s = p.equals("m") ? Math.pow(2, c / 2.0) : (c == 2 ? 10 : 1);
            return (t == 100 ? 2 : 1) * s * ((h + w + k + i) % 2 == 0 ? 1 : -1);
        });
        ChannelMagnitudes.Result r = acc.result(2, null);
        double[][] m = r.module("m").meanAbs();
        for (int c = 0; c < 8; c++) {
            assertThat(m[0][c]).isCloseTo(Math.pow(2, c / 2.0), within(1e-6));
            assertThat(m[1][c]).isCloseTo(2 * Math.pow(2, c / 2.0), within(1e-6));
        }
        MagnitudeSummary s = r.module("m").summary(0);
        assertThat(s.maxOverMin()).isCloseTo(Math.pow(2, 3.5), within(1e-5));
        assertThat(s.maxOverMedian()).isCloseTo(Math.pow(2, 3.5) / ((Math.pow(2, 1.5) + 4) / 2), within(1e-5));
        MagnitudeSummary n = r.module("n").summary(1);
        assertThat(n.maxOverMin()).isCloseTo(10, within(1e-6));
        assertThat(n.channelsForHalf()).isEqualTo(1);                          // 20 of 24
        assertThat(r.histogram(r.module("m")).counts()).hasSize(50);
        assertThat(java.util.Arrays.stream(r.histogram(r.module("m")).counts()).sum()).isEqualTo(8);

        OutputDirectory out = Planted.pictures(tmp, "channels-planted");
        ChannelReport.write(r, JsonNodeFactory.instance.objectNode().put("images", "planted"), out);
        assertThat(Planted.checkPictures(out)).isEqualTo(4);                  // sorted + histogram per module
        JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.dir().resolve("results.json").toFile());
        assertThat(json.at("/modules/0/summary/1/max").asDouble()).isCloseTo(2 * Math.pow(2, 3.5), within(1e-5));
        assertThat(json.at("/modules/0/mean_abs/unit").asText()).startsWith("activation");
        assertThat(Npy.read(out.dir().resolve("channels/m.npy")).shape()).containsExactly(2, 8);
    }

    @Test
    void theHistogramTimestepMustBeAmongTheTimesteps() {
        assertThatThrownBy(() -> new ChannelMagnitudes.Options(sampling(List.of("m"), List.of(0, 50), 1), 100, 50))
                .isInstanceOf(UnetlensException.class).hasMessage("--hist-timestep 100 is not one of the timesteps [0, 50]");
    }
}
