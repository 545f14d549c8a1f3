package dev.unetlens.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.analysis.similarity.Measure;
import dev.unetlens.analysis.similarity.Tokens;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.web.features.Float16Frame;
import dev.unetlens.web.labels.LabelStore;
import io.javalin.Javalin;
import io.javalin.testtools.JavalinTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

/** The similarity explorer's and the anomaly labeler's API over image dumps, with Javalin's test tools. */
class SimilarityAndLabelsApiTest {
    private static final String TOKEN = "fedcba9876543210fedcba9876543210";

    @TempDir
    static Path tmp;
    static Path runs;

    @BeforeAll
    static void makeRuns() throws Exception {
        runs = tmp.resolve("runs");
        TestRuns.images(runs.resolve("pets"), null);
        TestRuns.images(runs.resolve("far"), tmp.resolve("elsewhere"));
        TestRuns.generation(runs.resolve("gen"));
        TestRuns.planted(runs.resolve("planted"));
    }

    private static void test(ServerApiTest.ThrowingConsumer<Http> body) {
        Http.serve(runs, TOKEN, body);
    }

    /** The map of image i averaged over its noise samples, as analyze similarity averages draws. */
    private static Tokens mean(String image) {
        float[] v = Npy.read(runs.resolve("pets/" + image + "/" + TestRuns.IMAGE_MODULE + ".npy")).toFloats();
        int per = v.length / 2;
        double[] m = new double[per];
        for (int i = 0; i < per; i++) {
            m[i] = (v[i] + (double) v[per + i]) / 2;
        }
        return new Tokens(m, 4, 3, 3);
    }

    @Test
    void aTokensMapIsAnalyzeSimilaritysMeasureOverBothImages() {
        test(http -> {
            for (Measure measure : Measure.values()) {
                Http.Answer a = http.get("/api/similarity?run=pets&module=up_blocks.1&a=cat&b=dog&token=1,2&measure="
                        + measure.cliName());
                assertThat(a.status()).as(measure.cliName()).isEqualTo(200);
                Float16Frame.Decoded f = Float16Frame.decode(a.body());
                assertThat(f.header().get("measure").asText()).isEqualTo(measure.cliName());
                double[] onA = measure.map(mean("cat"), 5, mean("cat"));
                double[] onB = measure.map(mean("cat"), 5, mean("dog"));
                assertThat(f.values()).hasSize(18);
                for (int i = 0; i < 9; i++) {
                    assertThat(f.values()[i]).as(measure + " A %d", i).isCloseTo((float) onA[i], offset(2e-3f));
                    assertThat(f.values()[9 + i]).as(measure + " B %d", i).isCloseTo((float) onB[i], offset(2e-3f));
                }
            }
            for (String bad : List.of("token=3,0|token", "token=a,b|token", "token=1|token", "measure=jaccard|measure",
                    "b=zebra|b")) {
                String[] p = bad.split("\\|");
                Http.Answer a = http.get("/api/similarity?run=pets&module=up_blocks.1&a=cat&" + p[0]
                        + (p[0].startsWith("token") ? "" : "&token=0,0"));
                assertThat(a.status()).as(bad).isEqualTo(400);
                assertThat(a.json().get("field").asText()).as(bad).isEqualTo(p[1]);
            }
            Http.Answer img = http.get("/api/similarity/image?run=pets&image=dog");
            assertThat(img.status()).isEqualTo(200);
            assertThat(javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(img.body())).getWidth()).isEqualTo(32);
            Http.Answer far = http.get("/api/similarity/image?run=far&image=dog");
            assertThat(far.status()).isEqualTo(404);
            assertThat(far.json().get("error").asText()).contains("outside --runs");
        });
    }

    @Test
    void labelsAreSavedAfterEveryChangeAndExportedInThePapersFormat() {
        test(http -> {
            assertThat(http.get("/api/labels?run=pets").json().get("labels")).isEmpty();
            Http.Answer put = put(http, "/api/labels?run=pets",
                    "{\"labels\": [{\"image\": \"cat\", \"x\": 1, \"y\": 0}, {\"image\": \"dog\", \"x\": 0, \"y\": 1},"
                            + " {\"image\": \"cat\", \"x\": 0, \"y\": 0}]}");
            assertThat(put.status()).as(put.text()).isEqualTo(200);
            assertThat(put.json().get("counts").get("cat").asInt()).isEqualTo(2);
            JsonNode onDisk = Json.MAPPER.readTree(runs.resolve("pets/" + LabelStore.FILE).toFile());
            assertThat(onDisk.get("labels")).hasSize(3);
            assertThat(http.get("/api/labels?run=pets").json().get("labels").get(1).get("index").asInt()).isEqualTo(1);

            NpyArray npy = Npy.parse(ByteBuffer.wrap(http.get("/api/labels.npy?run=pets").body()), "export");
            assertThat(npy.shape()).containsExactly(3, 3);
            assertThat(npy.toLongs()).containsExactly(0, 1, 0, 1, 0, 1, 0, 0, 0);

            byte[] paper = Npy.toBytes(NpyArray.ofLongs(new long[] {2, 3}, new long[] {1, 2, 1, 0, 0, 2}));
            Http.Answer imported = http.send(HttpRequest.newBuilder(URI.create(http.origin() + "/api/labels.npy?run=pets"))
                    .header(Auth.HEADER, TOKEN).POST(HttpRequest.BodyPublishers.ofByteArray(paper)));
            assertThat(imported.status()).as(imported.text()).isEqualTo(200);
            assertThat(http.get("/api/labels?run=pets").json().get("labels")).extracting(l -> l.get("image").asText()
                    + l.get("x").asInt() + l.get("y").asInt()).containsExactly("dog21", "cat02");
        });
    }

    @Test
    void badLabelsAreRefusedAndTheOldOnesKept() {
        test(http -> {
            put(http, "/api/labels?run=far", "{\"labels\": [{\"image\": \"cat\", \"x\": 1, \"y\": 1}]}");
            for (String body : List.of("{\"labels\": [{\"image\": \"cow\", \"x\": 1, \"y\": 0}]}",
                    "{\"labels\": [{\"image\": \"cat\", \"x\": -1, \"y\": 0}]}",
                    "{\"labels\": [{\"image\": \"cat\", \"x\": 1.5, \"y\": 0}]}", "{\"labels\": 3}", "{not json", "")) {
                Http.Answer a = put(http, "/api/labels?run=far", body);
                assertThat(a.status()).as(body).isEqualTo(400);
                assertThat(a.json().get("error").asText()).as(body).isNotBlank().doesNotContain("\n");
            }
            byte[] floats = Npy.toBytes(NpyArray.ofFloats(new long[] {1, 3}, new float[] {0, 1, 1}));
            byte[] badIndex = Npy.toBytes(NpyArray.ofLongs(new long[] {1, 3}, new long[] {5, 1, 1}));
            for (byte[] npy : List.of(floats, badIndex, "not npy".getBytes())) {
                Http.Answer a = http.send(HttpRequest.newBuilder(URI.create(http.origin() + "/api/labels.npy?run=far"))
                        .header(Auth.HEADER, TOKEN).POST(HttpRequest.BodyPublishers.ofByteArray(npy)));
                assertThat(a.status()).isEqualTo(400);
                assertThat(a.json().get("field").asText()).isEqualTo("file");
            }
            Http.Answer huge = put(http, "/api/labels?run=far", "{\"labels\": [" + "{\"image\": \"cat\", \"x\": 1, \"y\": 1},".repeat(40_000) + "]}");
            assertThat(huge.status()).isEqualTo(413);
            assertThat(huge.json().get("error").asText()).contains("larger than");
            assertThat(http.get("/api/labels?run=far").json().get("labels")).hasSize(1);
            assertThat(http.get("/api/labels?run=gen").status()).isEqualTo(422);
        });
    }

    @Test
    void concurrentSavesLeaveOneWholeFile() {
        test(http -> {
            assertThat(Http.concurrently(60, 6, i -> put(http, "/api/labels?run=pets", "{\"labels\": ["
                    + "{\"image\": \"dog\", \"x\": 0, \"y\": 0},".repeat(i % 3)
                    + "{\"image\": \"cat\", \"x\": 2, \"y\": 2}]}"))).containsOnly(200);
            JsonNode onDisk = Json.MAPPER.readTree(runs.resolve("pets/" + LabelStore.FILE).toFile());
            assertThat(onDisk.get("labels").size()).isBetween(1, 2);      // duplicates are one label
            try (var s = Files.list(runs.resolve("pets"))) {
                assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp"));
            }
        });
    }

    private static Http.Answer put(Http http, String path, String body) {
        return http.send(HttpRequest.newBuilder(URI.create(http.origin() + path)).header(Auth.HEADER, TOKEN)
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body)));
    }

    @Test
    void theDetectorsCandidatesAreThePlantedPatchAndBadParametersAreNamed() {
        test(http -> {
            String base = "/api/labels/candidates?run=planted&module=up_blocks.1&image=planted";
            JsonNode found = http.get(base).json();
            assertThat(found.get("k").asDouble()).isEqualTo(6.0);
            JsonNode c = found.get("candidates");
            assertThat(c).hasSize(1);
            assertThat(List.of(c.get(0).get("x").asInt(), c.get(0).get("y").asInt(), c.get(0).get("rows").asInt(),
                    c.get(0).get("cols").asInt(), c.get(0).get("tokens").asInt()))
                    .containsExactly(TestRuns.PLANTED_X, TestRuns.PLANTED_Y, 2, 2, 4);
            assertThat(c.get(0).get("ratio").asDouble()).isGreaterThan(4);
            assertThat(http.get(base + "&k=0.5").json().get("candidates").size()).isGreaterThan(1);
            for (String bad : List.of("&k=abc|400|k", "&k=0|400|k", "&k=1e9|400|k", "&row=1|400|row")) {
                String[] p = bad.split("\\|");
                Http.Answer a = http.get(base + p[0]);
                assertThat(a.status()).as(bad).isEqualTo(Integer.parseInt(p[1]));
                assertThat(a.json().get("field").asText()).as(bad).isEqualTo(p[2]);
            }
            assertThat(http.get("/api/labels/candidates?run=planted&module=mid_block&image=planted").status()).isEqualTo(404);
            assertThat(http.get("/api/labels/candidates?run=planted&module=up_blocks.1&image=zebra").status()).isEqualTo(404);
            assertThat(http.get("/api/labels/candidates?run=..&module=up_blocks.1&image=planted").status()).isIn(400, 403, 404);
            assertThat(http.anonymous(base).status()).isEqualTo(401);
        });
    }
}
