package dev.unetlens.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** bench holds a result against every baseline: time against the faster torch, peak RSS against the lower. */
class BaselineRatiosTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void scriptLinesAndReferenceFilesAreBaselines() {
        Baseline lines = Baseline.of("""
                {"case": "unet_64_b1", "median_s": 10.0, "peak_rss_mb": 4000, "torch": "1.13.0a0", "attention": "explicit"}
                {"case": "unet_64_b2", "median_s": 20.0, "peak_rss_mb": 5000, "torch": "1.13.0a0", "attention": "explicit"}
                """, "old.jsonl");
        assertThat(lines.label()).isEqualTo("torch 1.13.0a0");
        assertThat(lines.file().path("cases")).hasSize(2);
        Baseline file = Baseline.of("{\"label\": \"torch X\", \"cases\": [{\"case\": \"unet_64_b1\", \"median_s\": 1}]}", "f");
        assertThat(file.label()).isEqualTo("torch X");
        assertThat(Baseline.bundled("torch26-cpu-reference.json").label()).isEqualTo("torch 2.6.0 + SDPA");
        assertThatThrownBy(() -> Baseline.of("{\"median_s\": 1}", "bad.json")).isInstanceOf(UnetlensException.class)
                .hasMessageContaining("bad.json");
    }

    @Test
    void theTimeRatioIsToTheFasterAndTheRssRatioToTheLower() {
        Baseline slow = Baseline.of("{\"case\": \"unet_64_b1\", \"median_s\": 10.0, \"peak_rss_mb\": 3000, \"torch\": \"1.13\"}", "a");
        Baseline fast = Baseline.of("{\"case\": \"unet_64_b1\", \"median_s\": 5.0, \"peak_rss_mb\": 4000, \"torch\": \"2.6\","
                + " \"attention\": \"sdpa\"}", "b");
        ObjectNode r = JSON.createObjectNode().put("case", "unet_64_b1").put("median_s", 4.0).put("peak_rss_mb", 3600)
                .put("attention", "sdpa");
        String line = BaselineRatios.compare(r, new BenchCase.UNetCase(64, 1), List.of(slow, fast));
        assertThat(r.path("baselines")).hasSize(2);
        assertThat(r.path("vs_faster").path("baseline").asText()).isEqualTo("torch 2.6 + SDPA");
        assertThat(r.path("vs_faster").path("median_s").asDouble()).isCloseTo(0.8, within(1e-12));
        assertThat(r.path("vs_faster").path("rss_baseline").asText()).isEqualTo("torch 1.13");
        assertThat(r.path("vs_faster").path("peak_rss_mb").asDouble()).isCloseTo(1.2, within(1e-12));
        assertThat(r.path("vs_faster").path("meets_targets").asBoolean()).isFalse();   // 0.8 > 0.6, RSS over
        assertThat(line).contains("vs the faster 0.80×");
        assertThat(BaselineRatios.table(JSON.createArrayNode().add(r), List.of(slow, fast)))
                .contains("| unet_64_b1 | 4.00 s, 3600 MB | 10.00 s, 3000 MB | 5.00 s, 4000 MB | 0.80× (RSS 1.20×) ✗ |");
        r.put("mkl", "avx512");                                           // variants are named in the table's rows
        assertThat(BaselineRatios.table(JSON.createArrayNode().add(r), List.of(slow, fast)))
                .contains("| unet_64_b1 (mkl avx512) | 4.00 s");
        r.put("attention", "explicit");
        assertThat(BaselineRatios.table(JSON.createArrayNode().add(r), List.of(slow, fast)))
                .contains("| unet_64_b1 (explicit, mkl avx512) | 4.00 s");
        r.remove("attention");                                            // results from before sdpa was the default
        assertThat(BaselineRatios.table(JSON.createArrayNode().add(r), List.of(slow, fast)))
                .contains("| unet_64_b1 (explicit, mkl avx512) | 4.00 s");
        r.put("attention", "sdpa");
        r.put("mkl", "default (asked for avx512: an Intel CPU, where MKL takes its AVX-512 kernels itself)");
        assertThat(BaselineRatios.table(JSON.createArrayNode().add(r), List.of(slow, fast))).contains("| unet_64_b1 | 4.00 s");
    }

    @Test
    void theSdxlCasesFindTheirOwnReferenceLinesAndTargets() {
        Baseline torch = Baseline.of("""
                {"case": "unet_xl_128_b1", "median_s": 40.0, "peak_rss_mb": 10000, "torch": "2.6", "attention": "sdpa"}
                {"case": "vae_decode_xl_128", "median_s": 80.0, "peak_rss_mb": 4000, "torch": "2.6", "attention": "sdpa"}
                {"case": "vae_decode_64", "median_s": 8.0, "peak_rss_mb": 1000, "torch": "2.6", "attention": "sdpa"}
                """, "xl.jsonl");
        BenchCase unet = BenchCase.ALL.get("unet_xl_128_b1");
        BenchCase vae = BenchCase.ALL.get("vae_decode_xl_128");
        assertThat(unet.model()).isEqualTo(dev.unetlens.synth.SyntheticModel.SDXL);
        assertThat(BenchCase.ALL.get("unet_xl_128_b2").describe()).contains("text [2, 77, 2048], pooled [2, 1280]");
        ObjectNode u = JSON.createObjectNode().put("case", unet.name()).put("median_s", 20.0).put("peak_rss_mb", 9000);
        BaselineRatios.compare(u, unet, List.of(torch));
        assertThat(u.path("vs_faster").path("time_target").asDouble()).isEqualTo(0.6);
        assertThat(u.path("vs_faster").path("meets_targets").asBoolean()).isTrue();          // 0.5×, RSS 0.9×
        ObjectNode v = JSON.createObjectNode().put("case", vae.name()).put("median_s", 70.0).put("peak_rss_mb", 3900);
        BaselineRatios.compare(v, vae, List.of(torch));
        assertThat(v.path("vs_faster").path("median_s").asDouble()).isCloseTo(0.875, within(1e-12));   // not vae_decode_64's
        assertThat(v.path("vs_faster").path("time_target").asDouble()).isEqualTo(0.8);
        assertThat(v.path("vs_faster").path("meets_targets").asBoolean()).isFalse();
    }
}
