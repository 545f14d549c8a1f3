package dev.unetlens.cli.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The dispersion bench case, small, on the bundled tiny model: its timing, RSS trace and flatness fields. */
class DispersionCaseTest {
    @Test
    void measuresTimeAndRssOverDraws() {
        DispersionCase c = new DispersionCase(64, "up_blocks.1", 50, 4, 8, 2);
        assertThat(c.name()).isEqualTo("dispersion_64_up1_t50");
        assertThat(BenchCase.ALL).containsKey("dispersion_512_up1_t50");
        List<String> progress = new ArrayList<>();
        ObjectNode r = SmallCases.measure(c, progress);
        assertThat(r.get("median_s").asDouble()).isPositive();
        assertThat(r.get("rss_mb_by_draws_4")).hasSize(2);               // two batches of 2
        assertThat(r.get("rss_mb_by_draws_8")).hasSize(4);
        assertThat(r.at("/rss_mb_by_draws_8/3/0").asInt()).isEqualTo(8);
        assertThat(r.get("peak_rss_8_mb").asDouble()).isPositive();
        assertThat(r.get("mean_std").asDouble()).isPositive();
        assertThat(r.has("rss_flat")).isTrue();
        assertThat(r.get("rss_at_end_mb").asDouble()).isEqualTo(r.at("/rss_mb_by_draws_8/3/1").asDouble());
        assertThat(r.get("rss_at_half_mb").asDouble()).isEqualTo(r.at("/rss_mb_by_draws_8/1/1").asDouble());
        assertThat(progress).anySatisfy(l -> assertThat(l).contains("8 draws: 8/8 draws"));
    }
}
