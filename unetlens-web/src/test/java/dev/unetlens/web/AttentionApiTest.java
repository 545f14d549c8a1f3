package dev.unetlens.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.web.features.Float16Frame;
import io.javalin.Javalin;
import io.javalin.testtools.JavalinTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.unetlens.web.Http.enc;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

/**
 * The attention page's API over a generation dump with cross- and self-attention probabilities ({@link
 * TestRuns#attention}): the heat maps of the chosen blocks, heads and steps, the raw maps, a query's self-attention
 * map; bad parameters, names that leave --runs, and the token.
 */
class AttentionApiTest {
    private static final String TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
    private static final String SECRET = "attention secret";
    private static final int T = 16;          // the 4×4 block's positions (= the latent's)
    private static final int S = 8;           // keys of the cross-attention dump

    @TempDir
    static Path tmp;
    static Path runs;

    @BeforeAll
    static void makeRuns() throws Exception {
        runs = tmp.resolve("runs");
        TestRuns.attention(runs.resolve("fox"));
        TestRuns.generation(runs.resolve("gen"));
        Files.writeString(tmp.resolve("secret.txt"), SECRET);
    }

    private static void test(ServerApiTest.ThrowingConsumer<Http> body) {
        Http.serve(runs, TOKEN, body);
    }

    /** probs[0, head, q, key] of attention module m at a step, as written. */
    private static float p(int m, int step, int head, int q, int key, int queries, int keys) {
        return TestRuns.attention(m, step, (head * queries + q) * keys + key);
    }

    @Test
    void theRunIsListedWithItsAttentionViewAndDescribed() {
        test(http -> {
            JsonNode list = http.get("/api/runs").json().get("runs");
            for (JsonNode r : list) {
                assertThat(r.get("views")).extracting(JsonNode::asText).as(r.get("id").asText())
                        .matches(v -> v.contains("attention") == r.get("id").asText().equals("fox"));
            }
            JsonNode meta = http.get("/api/attention?run=fox").json();
            assertThat(meta.get("prompt").asText()).isEqualTo("a red fox");
            assertThat(meta.get("tokens")).extracting(JsonNode::asText)
                    .containsExactly("<|startoftext|>", "a", "red", "fox", "<|endoftext|>");
            assertThat(meta.get("image").asText()).isEqualTo("image.png");
            assertThat(meta.get("latent")).extracting(JsonNode::asInt).containsExactly(4, 4);
            assertThat(meta.get("daam")).extracting(JsonNode::asText).containsExactly(TestRuns.CROSS, TestRuns.CROSS_SMALL);
            JsonNode modules = meta.get("modules");
            assertThat(modules).extracting(m -> m.get("module").asText() + " " + m.get("kind").asText() + " "
                    + m.get("map").get(0).asInt() + "x" + m.get("map").get(1).asInt() + " " + m.get("steps"))
                    .containsExactly(TestRuns.CROSS + " cross 4x4 [1,2]", TestRuns.CROSS_SMALL + " cross 2x2 [1,2]",
                            TestRuns.SELF + " self 4x4 [1,2]");
            assertThat(http.get("/api/attention?run=gen").status()).isEqualTo(404);
        });
    }

    @Test
    void aWordsHeatMapAveragesTheChosenBlocksHeadsAndSteps() {
        test(http -> {
            String base = "/api/attention/heat?run=fox&modules=" + enc(TestRuns.CROSS) + "&normalize=false";
            // one map: the block is the latent's size, so DAAM's bicubic resize leaves it, and clamping keeps it
            Float16Frame.Decoded one = Float16Frame.decode(http.get(base + "&token=3&heads=1&steps=2").body());
            assertThat(one.header().get("shape")).extracting(JsonNode::asInt).containsExactly(4, 4);
            assertThat(one.header().get("of").asText()).isEqualTo("fox");
            for (int q = 0; q < T; q++) {
                assertThat(one.values()[q]).as("q %d", q).isCloseTo(p(0, 2, 1, q, 3, T, S), offset(2e-4f));
            }
            // two heads, two steps: their mean; the word "fox" is token 3
            Float16Frame.Decoded four = Float16Frame.decode(http.get(base + "&word=fox").body());
            assertThat(four.header().get("tokens")).extracting(JsonNode::asInt).containsExactly(3);
            for (int q = 0; q < T; q++) {
                double mean = (p(0, 1, 0, q, 3, T, S) + p(0, 1, 1, q, 3, T, S) + p(0, 2, 0, q, 3, T, S)
                        + p(0, 2, 1, q, 3, T, S)) / 4;
                assertThat(four.values()[q]).as("q %d", q).isCloseTo((float) mean, offset(2e-4f));
            }
            // normalised over the content tokens (1 … 3): a red fox sum to 1 at every position
            String norm = "/api/attention/heat?run=fox&modules=" + enc(TestRuns.CROSS) + "&token=";
            float[][] content = new float[3][];
            for (int k = 1; k <= 3; k++) {
                content[k - 1] = Float16Frame.decode(http.get(norm + k).body()).values();
            }
            for (int q = 0; q < T; q++) {
                assertThat(content[0][q] + content[1][q] + content[2][q]).isCloseTo(1f, offset(3e-3f));
            }
            // DAAM's blocks by default: the 2×2 block changes the map
            float[] both = Float16Frame.decode(http.get("/api/attention/heat?run=fox&normalize=false&token=3").body()).values();
            assertThat(both[0]).isNotCloseTo(four.values()[0], offset(1e-3f));

            Http.Answer png = http.get("/api/attention/heat.png?run=fox&word=red&heads=0");
            assertThat(png.status()).isEqualTo(200);
            assertThat(javax.imageio.ImageIO.read(new ByteArrayInputStream(png.body()))).isNotNull();
            JsonNode fields = Json.MAPPER.readTree(png.header("X-Unetlens-Picture"));
            assertThat(fields.get("words").get(0).get("word").asText()).isEqualTo("red");
            assertThat(fields.get("heads")).extracting(JsonNode::asInt).containsExactly(0);
            assertThat(fields.get("modules")).extracting(JsonNode::asText).containsExactly(TestRuns.CROSS, TestRuns.CROSS_SMALL);
            assertThat(fields.get("steps")).extracting(JsonNode::asInt).containsExactly(1, 2);
        });
    }

    @Test
    void rawMapsAndASelfAttentionQueryAreTheDumpsValues() {
        test(http -> {
            Http.Answer grid = http.get("/api/attention/maps.png?run=fox&module=" + enc(TestRuns.CROSS)
                    + "&step=1&heads=1&tokens=1-3&scope=tile");
            assertThat(grid.status()).isEqualTo(200);
            JsonNode fields = Json.MAPPER.readTree(grid.header("X-Unetlens-Picture"));
            assertThat(fields.get("step").asInt()).isEqualTo(1);
            assertThat(javax.imageio.ImageIO.read(new ByteArrayInputStream(grid.body()))).isNotNull();

            String q = "/api/attention/self?run=fox&module=" + enc(TestRuns.SELF) + "&step=2&y=2&x=1";
            float[] head0 = Float16Frame.decode(http.get(q + "&heads=0").body()).values();
            float[] all = Float16Frame.decode(http.get(q).body()).values();
            int query = 2 * 4 + 1;
            for (int k = 0; k < T; k++) {
                assertThat(head0[k]).isCloseTo(p(2, 2, 0, query, k, T, T), offset(2e-4f));
                assertThat(all[k]).isCloseTo((p(2, 2, 0, query, k, T, T) + p(2, 2, 1, query, k, T, T)) / 2, offset(2e-4f));
            }
            Http.Answer pic = http.get("/api/attention/self.png?run=fox&module=" + enc(TestRuns.SELF) + "&step=2&y=2&x=1");
            assertThat(pic.status()).isEqualTo(200);
            assertThat(Json.MAPPER.readTree(pic.header("X-Unetlens-Picture")).get("query"))
                    .extracting(JsonNode::asInt).containsExactly(2, 1);
        });
    }

    /** "endpoint|parameters|status|field" (field empty where the answer names none). */
    @ParameterizedTest
    @ValueSource(strings = {
        "heat|token=9|400|token", "heat|token=x|400|token", "heat||400|token", "heat|word=zebra|400|word",
        "heat|token=3&heads=2|400|heads", "heat|token=3&heads=1-0|400|heads", "heat|token=3&steps=7|400|steps",
        "heat|token=3&modules=mid_block|400|modules", "heat|token=3&modules=SELF|400|modules",
        "heat|token=3&normalize=maybe|400|normalize", "heat|token=3&row=1|400|row",
        "maps.png|module=SELF&step=1|400|module", "maps.png|module=CROSS&step=3|404|", "maps.png|module=CROSS&step=0|400|step",
        "maps.png|module=CROSS&tokens=8|400|tokens", "maps.png|module=CROSS&scope=global|400|scope",
        "maps.png|module=CROSS&page=2|400|page", "maps.png||400|module",
        "self|module=SELF&y=4&x=0|400|y", "self|module=SELF&y=0&x=-1|400|x", "self|module=SELF&y=0|400|x",
        "self|module=CROSS&y=0&x=0|400|module", "self.png|module=SELF&y=0&x=0&heads=0,5|400|heads"})
    void badParametersAreJsonErrorsNamingTheField(String spec) {
        String[] p = spec.split("\\|", -1);
        String params = p[1].replace("SELF", enc(TestRuns.SELF)).replace("CROSS", enc(TestRuns.CROSS));
        test(http -> {
            Http.Answer a = http.get("/api/attention/" + p[0] + "?run=fox" + (params.isEmpty() ? "" : "&" + params));
            assertThat(a.status()).as(spec).isEqualTo(Integer.parseInt(p[2]));
            assertThat(a.json().get("error").asText()).as(spec).isNotBlank().doesNotContain("\n").doesNotContain("Exception");
            if (!p[3].isEmpty()) {
                assertThat(a.json().get("field").asText()).as(spec).isEqualTo(p[3]);
            }
        });
    }

    @Test
    void namesThatLeaveTheRunsAndRequestsWithoutTheTokenAreRefused() {
        test(http -> {
            for (String run : List.of("..", "../secret.txt", "%2e%2e", "..%2f..", enc(tmp.toString()), "fox%2f..%2f..",
                    "%252e%252e", "/etc")) {
                for (String endpoint : List.of("", "/heat?token=1&", "/maps.png?module=x&", "/self?module=x&x=0&y=0&")) {
                    String url = "/api/attention" + (endpoint.isEmpty() ? "?" : endpoint) + "run=" + run;
                    Http.Answer a = http.get(url);
                    assertThat(a.status()).as(url).isIn(400, 403, 404);
                    assertThat(a.text()).as(url).doesNotContain(SECRET);
                }
            }
            assertThat(http.anonymous("/api/attention?run=fox").status()).isEqualTo(401);
            assertThat(http.anonymous("/api/attention/heat.png?run=fox&token=3").status()).isEqualTo(401);
            assertThat(http.anonymous("/api/attention/self?run=fox&module=" + enc(TestRuns.SELF) + "&x=0&y=0").status())
                    .isEqualTo(401);
        });
    }
}
