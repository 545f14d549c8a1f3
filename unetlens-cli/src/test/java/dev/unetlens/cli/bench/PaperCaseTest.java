package dev.unetlens.cli.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The analyze paper bench case, small, on the bundled tiny model: both throughputs and peak RSS figures. */
class PaperCaseTest {
    @Test
    void measuresThePaperRunBesideThePapersExtraction() {
        PaperCase c = new PaperCase(64, 2, 50);
        assertThat(c.name()).isEqualTo("paper_64_t50");
        assertThat(BenchCase.ALL).containsKey("paper_512_t50");
        List<String> progress = new ArrayList<>();
        ObjectNode r = SmallCases.measure(c, progress);
        assertThat(r.get("paper_images_per_min").asDouble()).isPositive();
        assertThat(r.get("extraction_images_per_min").asDouble()).isPositive();
        assertThat(r.get("paper_peak_rss_mb").asDouble()).isPositive();
        assertThat(r.get("modules").asInt()).isEqualTo(r.get("probe_modules").asInt()).isGreaterThan(10);
        assertThat(r.get("extraction_floats_per_image").asLong()).isPositive();
        assertThat(progress).anySatisfy(l -> assertThat(l).startsWith("analyze paper: image 2/2"));
    }
}
