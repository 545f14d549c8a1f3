package dev.unetlens.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.cli.Main;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * {@code batch} in local[2] over generated images equals {@code analyze paper} over the same images (the base seed for
 * every image, as analyze draws): per module the mean norm, the three token-group matrices and the images they average,
 * the anomaly ratio's mean and std over the labels, the patches found, the labels at the reference module, and the
 * positional probe trained from the tokens table (losses and accuracies of every epoch); up to the order of float64
 * additions.
 */
class BatchAnalyzeTest extends SparkTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double TOL = 1e-9;

    @Test
    void datasetResultsEqualAnalyzePaper() throws Exception {
        BatchTestData.shared();
        Path images = BatchTestData.images(tmp.resolve("images"), 12);
        String model = BatchTestData.model(0);
        Path batch = tmp.resolve("batch");
        assertThat(Main.run("batch", "--model", model, "--input", images.toString(), "--out", batch.toString(),
                "--master", "local[2]", "--partitions", "3", "--seed-from", "base", "--threads-per-task", "1",
                "--spatial-mean", "--probe", "--k", "1")).isZero();
        Path analyze = tmp.resolve("analyze");
        assertThat(Main.run("analyze", "paper", "--model", model, "--images", images.toString(), "--k", "1",
                "--out", analyze.toString())).isZero();
        JsonNode b = JSON.readTree(batch.resolve("results.json").toFile());
        JsonNode a = JSON.readTree(analyze.resolve("results.json").toFile());
        assertThat(b.path("images").asInt()).isEqualTo(12);
        assertThat(a.path("anomalies").path("labels").asInt()).as("labels to take ratios at").isPositive();
        assertThat(b.path("anomalies").path("labels").asInt()).isEqualTo(a.path("anomalies").path("labels").asInt());
        Map<String, JsonNode> byModule = new HashMap<>();
        b.path("modules").forEach(m -> byModule.put(m.path("module").asText(), m));
        assertThat(byModule).hasSize(a.path("modules").size());
        for (JsonNode am : a.path("modules")) {
            JsonNode bm = byModule.get(am.path("module").asText());
            String where = am.path("module").asText();
            assertThat(bm.path("mean_norm").asDouble()).as(where).isCloseTo(am.path("mean_norm").asDouble(), rel(am.path("mean_norm")));
            assertThat(bm.path("channel_mean_abs").size()).as(where).isEqualTo(am.path("map_shape").get(0).asInt());
            assertThat(bm.path("groups").path("images").asInt()).as(where).isEqualTo(am.path("groups").path("images").asInt());
            for (String v : new String[] {"plain", "ring_dropped", "image_cropped"}) {
                matrix(bm.path("groups").path(v).path("values"), am.path("groups").path(v).path("values"), where + " " + v);
            }
            JsonNode ba = bm.path("anomalies");
            JsonNode aa = am.path("anomalies");
            assertThat(ba.path("patches").asInt()).as(where).isEqualTo(aa.path("patches").asInt());
            assertThat(ba.path("images_with_patches").asInt()).as(where).isEqualTo(aa.path("images_with_patches").asInt());
            number(ba.path("ratio_mean"), aa.path("ratio_mean"), where + " ratio_mean");
            number(ba.path("ratio_std"), aa.path("ratio_std"), where + " ratio_std");
            JsonNode bp = bm.path("probe");
            JsonNode ap = am.path("probe");
            assertThat(bp.path("train_images").asInt()).as(where).isEqualTo(ap.path("train_images").asInt()).isPositive();
            assertThat(bp.path("test_images").asInt()).as(where).isEqualTo(ap.path("test_images").asInt()).isPositive();
            for (String q : new String[] {"accuracy", "accuracy_per_axis"}) {
                matrix(bp.path(q).path("values"), ap.path(q).path("values"), where + " probe " + q);
            }
            for (int e = 0; e < ap.path("loss").size(); e++) {
                number(bp.path("loss").get(e), ap.path("loss").get(e), where + " probe loss, epoch " + e);
            }
        }
        JsonNode manifest = JSON.readTree(batch.resolve("manifest.json").toFile());
        assertThat(manifest.path("status").asText()).isEqualTo("complete");
        assertThat(manifest.path("model").path("hash").asText()).hasSize(64);
        assertThat(manifest.path("spark").path("spark.master").asText()).isEqualTo("local[2]");
    }

    private static void matrix(JsonNode b, JsonNode a, String where) {
        assertThat(b.size()).as(where).isEqualTo(a.size());
        for (int i = 0; i < a.size(); i++) {
            for (int j = 0; j < a.get(i).size(); j++) {
                number(b.get(i).get(j), a.get(i).get(j), where + " [" + i + "][" + j + "]");
            }
        }
    }

    private static void number(JsonNode b, JsonNode a, String where) {
        if (a.isNull()) {
            assertThat(b.isNull()).as(where + " is NaN in analyze").isTrue();
            return;
        }
        assertThat(b.asDouble()).as(where).isCloseTo(a.asDouble(), rel(a));
    }

    private static org.assertj.core.data.Offset<Double> rel(JsonNode a) {
        return within(TOL * Math.max(1, Math.abs(a.asDouble())));
    }
}
