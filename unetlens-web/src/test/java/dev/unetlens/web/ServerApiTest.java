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

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.unetlens.web.Http.enc;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server's API with Javalin's test tools: the token, the Runs listing (broken runs included), file serving that
 * cannot be led out of --runs, the feature explorer's pictures and values, and JSON refusals for bad parameters.
 */
class ServerApiTest {
    private static final String TOKEN = "0123456789abcdef0123456789abcdef";
    private static final String SECRET = "top secret, outside --runs";

    @TempDir
    static Path tmp;
    static Path runs;

    @BeforeAll
    static void makeRuns() throws Exception {
        runs = tmp.resolve("runs");
        TestRuns.generation(runs.resolve("gen"));
        TestRuns.corrupt(runs.resolve("broken"));
        TestRuns.halfWritten(runs.resolve("busy"));
        TestRuns.truncated(runs.resolve("nested/cut"));
        Files.writeString(tmp.resolve("secret.txt"), SECRET);
        Files.createSymbolicLink(runs.resolve("gen/link.txt"), tmp.resolve("secret.txt"));
        Files.createSymbolicLink(runs.resolve("outside"), tmp);
    }

    private static void test(ThrowingConsumer<Http> body) {
        Http.serve(runs, TOKEN, body);
    }

    interface ThrowingConsumer<T> {
        void accept(T t) throws Exception;
    }

    @Test
    void everyRequestNeedsTheToken() {
        test(http -> {
            Http.Answer none = http.anonymous("/api/runs");
            assertThat(none.status()).isEqualTo(401);
            assertThat(none.json().get("error").asText()).contains("token");
            assertThat(http.anonymous("/").status()).isEqualTo(401);
            assertThat(http.anonymous("/static/app.js").status()).isEqualTo(401);
            assertThat(new Http(http.origin(), TOKEN.replace('0', '1')).get("/api/runs").status()).isEqualTo(401);
            assertThat(http.get("/api/runs").status()).isEqualTo(200);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(http.origin() + "/api/runs"))
                    .header("Authorization", "Bearer " + TOKEN)).status()).isEqualTo(200);

            // the first visit: a cookie, and the token leaves the address bar
            Http.Answer first = http.anonymous("/?token=" + TOKEN);
            assertThat(first.status()).isEqualTo(302);
            assertThat(first.header("Location")).doesNotContain(TOKEN);
            String cookie = first.header("Set-Cookie");
            assertThat(cookie).contains("HttpOnly").contains("SameSite=Strict");
            Http.Answer page = http.send(HttpRequest.newBuilder(URI.create(http.origin() + "/"))
                    .header("Cookie", cookie.substring(0, cookie.indexOf(';'))));
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.text()).contains("<script type=\"module\" src=\"/static/app.js\">");
        });
    }

    @Test
    void anotherSitesHostNameIsRefused() {
        test(http -> {
            String answer = http.raw("/api/runs").replace("", "");
            assertThat(answer).startsWith("HTTP/1.1 200");
            URI u = URI.create(http.origin());
            try (var s = new java.net.Socket(u.getHost(), u.getPort())) {
                s.getOutputStream().write(("GET /api/runs HTTP/1.1\r\nHost: evil.example:" + u.getPort() + "\r\n"
                        + Auth.HEADER + ": " + TOKEN + "\r\nConnection: close\r\n\r\n").getBytes());
                assertThat(new String(s.getInputStream().readAllBytes())).startsWith("HTTP/1.1 403").contains("Host");
            }
        });
    }

    @Test
    void runsAreListedWithSummariesAndBrokenRunsWithTheirProblem() {
        test(http -> {
            JsonNode list = http.get("/api/runs").json().get("runs");
            List<String> ids = new ArrayList<>();
            list.forEach(r -> ids.add(r.get("id").asText()));
            assertThat(ids).contains("gen", "broken", "busy", "nested/cut").doesNotContain("outside");
            JsonNode gen = find(list, "gen");
            assertThat(gen.get("command").asText()).isEqualTo("extract generation");
            assertThat(gen.get("status").asText()).isEqualTo("complete");
            assertThat(gen.get("prompt").asText()).isEqualTo("a red fox");
            assertThat(gen.get("seed").asLong()).isEqualTo(7);
            assertThat(gen.get("scheduler").asText()).isEqualTo("PNDMScheduler");
            assertThat(gen.get("model").asText()).isEqualTo("tiny-sd15-v1");
            assertThat(gen.get("seconds").asDouble()).isEqualTo(4.25);
            assertThat(gen.get("thumbnail").asText()).isEqualTo("image.png");
            assertThat(gen.get("views")).extracting(JsonNode::asText).contains("features");
            assertThat(gen.get("problem").isNull()).isTrue();
            assertThat(find(list, "broken").get("problem").asText()).contains("not valid JSON");
            assertThat(find(list, "broken").get("status").asText()).isEqualTo("unreadable");
            assertThat(find(list, "busy").get("problem").asText()).contains("half-written");

            assertThat(http.get("/api/runs?q=FOX").json().get("runs")).hasSize(2);     // gen and nested/cut
            assertThat(http.get("/api/runs?q=zebra").json().get("runs")).isEmpty();
            assertThat(http.get("/api/runs?command=generate").json().get("runs")).isEmpty();
            assertThat(http.get("/api/runs?model=tiny").json().get("runs")).hasSize(2);

            Http.Answer thumb = http.get("/api/thumb?run=gen&path=image.png");
            assertThat(thumb.status()).isEqualTo(200);
            assertThat(thumb.header("Content-Type")).isEqualTo("image/png");
            assertThat(http.get("/api/run?run=gen").json().get("manifest").get("status").asText()).isEqualTo("complete");
            assertThat(http.get("/api/run?run=broken").json().get("summary").get("problem").asText()).contains("JSON");
            assertThat(http.get("/api/features?run=broken").status()).isEqualTo(422);
        });
    }

    private static JsonNode find(JsonNode list, String id) {
        for (JsonNode r : list) {
            if (r.get("id").asText().equals(id)) {
                return r;
            }
        }
        throw new AssertionError("no run " + id + " in " + list);
    }

    @Test
    void filesOfARunAreServed() {
        test(http -> {
            Http.Answer m = http.get("/api/file?run=gen&path=manifest.json");
            assertThat(m.status()).isEqualTo(200);
            assertThat(m.json().get("command").asText()).isEqualTo("extract");
            Http.Answer npy = http.get("/api/file?run=gen&path=" + enc("mid_block/step-001.npy"));
            assertThat(npy.body()).isEqualTo(Files.readAllBytes(runs.resolve("gen/mid_block/step-001.npy")));
            assertThat(npy.header("Content-Disposition")).startsWith("attachment");
        });
    }

    /** What a browser gets: compressed when it asks (a file's stated length must not contradict that). */
    @Test
    void filesAreServedWholeToClientsThatAcceptGzip() {
        test(http -> {
            for (String name : List.of("manifest.json", "mid_block/step-001.npy")) {
                Http.Answer a = http.send(HttpRequest.newBuilder(URI.create(http.origin() + "/api/file?run=gen&path="
                        + enc(name))).header(Auth.HEADER, TOKEN).header("Accept-Encoding", "gzip"));
                assertThat(a.status()).as(name).isEqualTo(200);
                byte[] body = "gzip".equals(a.header("Content-Encoding"))
                        ? new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(a.body())).readAllBytes() : a.body();
                assertThat(body).as(name).isEqualTo(Files.readAllBytes(runs.resolve("gen/" + name)));
            }
        });
    }

    /** Names that try to leave --runs, raw and encoded: each refused (403 or 404) and the secret never sent. */
    @ParameterizedTest
    @ValueSource(strings = {"../secret.txt", "..%2fsecret.txt", "%2e%2e/secret.txt", "%2e%2e%2fsecret.txt",
        "%252e%252e%252fsecret.txt", "..%5csecret.txt", "/etc/passwd", "%2fetc%2fpasswd", "link.txt",
        "mid_block/../../secret.txt", "./manifest.json", "..", "%00manifest.json", "C:%5cwindows", "~/secret.txt",
        "..%c0%afsecret.txt", "%c0%ae%c0%ae/secret.txt", ".%2e/secret.txt"})
    void fileNamesCannotLeaveTheRuns(String name) {
        test(http -> {
            for (String url : List.of("/api/file?run=gen&path=" + name, "/api/file?run=" + name + "&path=secret.txt",
                    "/api/thumb?run=gen&path=" + name, "/api/features?run=" + name,
                    "/api/file?run=outside&path=secret.txt", "/api/file?run=" + enc(tmp.toString()) + "&path=secret.txt",
                    "/static/" + name, "/" + name)) {
                Http.Answer a = http.get(url);
                assertThat(a.status()).as(url).isIn(400, 403, 404);
                assertThat(a.text()).as(url).doesNotContain(SECRET);
                assertThat(a.json().get("error").asText()).as(url).isNotBlank();
            }
            for (String target : List.of("/static/" + name, "/../" + name, "/static/../../" + name)) {
                String answer = http.raw(target);
                assertThat(answer).as(target).matches("(?s)HTTP/1.1 4\\d\\d .*").doesNotContain(SECRET);
            }
        });
    }

    @Test
    void featureMapsAreDrawnByTheVizModuleAndTheirValuesSentAsFloat16() {
        test(http -> {
            JsonNode meta = http.get("/api/features?run=gen").json();
            assertThat(meta.get("kind").asText()).isEqualTo("generation");
            JsonNode in04 = meta.get("modules").get(0);
            assertThat(in04.get("block").asText()).isEqualTo("IN04");
            assertThat(in04.get("shape")).extracting(JsonNode::asInt).containsExactly(6, 4, 5);
            assertThat(in04.get("steps")).extracting(s -> s.get("step").asInt()).containsExactly(1, 2);

            String q = "run=gen&module=" + enc(TestRuns.MODULES[0][0]) + "&step=2";
            Http.Answer grid = http.get("/api/features/grid.png?" + q + "&color=red-blue&scope=tile");
            assertThat(grid.status()).isEqualTo(200);
            assertThat(javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(grid.body()))).isNotNull();
            JsonNode fields = Json.MAPPER.readTree(grid.header("X-Unetlens-Picture"));
            assertThat(fields.get("layout").get("columns").asInt()).isEqualTo(3);     // 6 channels, about square
            assertThat(fields.get("step").asInt()).isEqualTo(2);
            assertThat(fields.get("autoScope").asText()).isEqualTo("tile");

            Float16Frame.Decoded v = Float16Frame.decode(http.get("/api/features/values?" + q + "&channel=4").body());
            assertThat(v.header().get("shape")).extracting(JsonNode::asInt).containsExactly(4, 5);
            for (int i = 0; i < 20; i++) {
                float want = TestRuns.value(0, 2, 4 * 20 + i);
                assertThat(v.values()[i]).isCloseTo(want, org.assertj.core.data.Offset.offset(Math.abs(want) / 1000f));
            }
            Float16Frame.Decoded mean = Float16Frame.decode(http.get("/api/features/values?" + q + "&reduce=mean").body());
            double expect = 0;
            for (int c = 0; c < 6; c++) {
                expect += TestRuns.value(0, 2, c * 20) / 6.0;
            }
            assertThat(mean.values()[0]).isCloseTo((float) expect, org.assertj.core.data.Offset.offset(1f));
            Http.Answer tile = http.get("/api/features/tile.png?" + q + "&channel=1&size=100");
            var img = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(tile.body()));
            assertThat(img.getWidth()).isEqualTo(100);                       // 5 px wide × 20
            assertThat(http.get("/api/features/reduced.png?" + q + "&reduce=l2").status()).isEqualTo(200);
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"channel=abc|channel", "channel=6|channel", "channel=-1|channel", "color=plaid|color",
        "transform=loud|transform", "color=custom|color", "color=custom&rgb=v;v|rgb", "color=custom&hsl=v;1;(|hsl",
        "step=9|", "step=0|step", "row=1|row", "scope=global|scope", "size=99999|size", "lo=nan|lo"})
    void badParametersAreJson400sNamingTheField(String spec) {
        String[] p = spec.split("\\|", -1);
        test(http -> {
            String url = "/api/features/" + (p[0].startsWith("scope") ? "grid" : "tile") + ".png?run=gen&module=mid_block&" + p[0].replace(";", "%3B").replace("(", "%28")
                    + (p[0].startsWith("channel") ? "" : "&channel=0");
            Http.Answer a = http.get(url);
            assertThat(a.status()).as(url).isIn(400, 404);
            assertThat(a.json().get("error").asText()).as(url).isNotBlank().doesNotContain("\n").doesNotContain("Exception");
            if (!p[1].isEmpty()) {
                assertThat(a.status()).isEqualTo(400);
                assertThat(a.json().get("field").asText()).as(url).isEqualTo(p[1]);
            }
        });
    }

    @Test
    void unknownEndpointsAndBrokenTensorsAreJsonErrors() {
        test(http -> {
            Http.Answer none = http.get("/api/nothing");
            assertThat(none.status()).isEqualTo(404);
            assertThat(none.json().get("error").asText()).contains("/api/nothing");
            Http.Answer cut = http.get("/api/features/values?run=nested%2Fcut&module=" + enc(TestRuns.MODULES[0][0])
                    + "&step=1&channel=5");
            assertThat(cut.status()).isEqualTo(422);
            assertThat(cut.json().get("error").asText()).contains("truncated");
            assertThat(http.get("/api/features?run=busy").status()).isEqualTo(422);
        });
    }

    @Test
    void concurrentRequestsAllSucceed() {
        test(http -> assertThat(Http.concurrently(200, 8, i -> http.get("/api/features/tile.png?run=gen&module="
                + enc(TestRuns.MODULES[0][0]) + "&step=" + (1 + i % 2) + "&channel=" + i % 6))).containsOnly(200));
    }
}
