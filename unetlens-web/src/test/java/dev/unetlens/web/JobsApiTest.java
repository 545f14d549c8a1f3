package dev.unetlens.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.web.jobs.JobLauncher;
import io.javalin.Javalin;
import io.javalin.testtools.JavalinTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jobs through the API with a stand-in launcher (a shell script that prints the CLI's progress lines and writes a
 * manifest): the form's checks at their fields, the queue of one, live events, cancel, and other requests answered
 * while a job runs. The browser test starts a real {@code generate}.
 */
class JobsApiTest {
    private static final String TOKEN = "00112233445566778899aabbccddeeff";

    @TempDir
    Path tmp;

    /** generate with --prompt, --steps (an integer), --karras; the job sleeps --steps × 0.15 s. */
    static final class ScriptLauncher implements JobLauncher {
        @Override
        public List<String> commands() {
            return List.of("generate");
        }

        @Override
        public List<OptionInfo> options(String command) {
            return List.of(new OptionInfo("--prompt", "TEXT", "prompt", null, false, true, ""),
                    new OptionInfo("--steps", "N", "steps", "30", false, false, ""),
                    new OptionInfo("--karras", "", "karras", null, true, false, ""),
                    new OptionInfo("--out", "DIR", "out", null, false, false, ""));
        }

        @Override
        public void check(String command, List<String> args) {
            int i = args.indexOf("--steps");
            if (i >= 0 && !args.get(i + 1).matches("\\d+")) {
                throw new JobArgumentException("--steps", "Invalid value for option '--steps': '" + args.get(i + 1)
                        + "' is not an int");
            }
        }

        @Override
        public Process start(String command, List<String> args) throws IOException {
            int i = args.indexOf("--steps");
            int steps = i >= 0 ? Integer.parseInt(args.get(i + 1)) : 3;
            String out = args.get(args.indexOf("--out") + 1);
            String script = "echo 'denoising (" + steps + ") …' >&2; for s in $(seq 1 " + steps + "); do sleep 0.15;"
                    + " echo \"denoising $s/" + steps + " 0.${s}s 3s left step $s\" >&2; done; mkdir -p '" + out + "';"
                    + " echo '{\"command\": \"generate\", \"status\": \"complete\", \"files\": []}' > '" + out
                    + "/manifest.json'";
            return new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
        }
    }

    private void test(ServerApiTest.ThrowingConsumer<Http> body) {
        Javalin app = WebServer.create(new ServeConfig(tmp, null, "127.0.0.1", 0, TOKEN), new ScriptLauncher());
        JavalinTest.test(app, (server, client) -> body.accept(new Http(client.getOrigin(), TOKEN)));
    }

    private static Http.Answer post(Http http, String path, String json) {
        return http.send(HttpRequest.newBuilder(URI.create(http.origin() + path)).header(Auth.HEADER, TOKEN)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    private static JsonNode waitFor(Http http, String id, String state) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            for (JsonNode j : http.get("/api/jobs").json().get("jobs")) {
                if (j.get("id").asText().equals(id) && j.get("state").asText().equals(state)) {
                    return j;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("job " + id + " never became " + state + ": " + http.get("/api/jobs").text());
    }

    @Test
    void badFormsAreRefusedAtTheirField() {
        test(http -> {
            record Case(String body, String field) { }
            for (Case c : List.of(
                    new Case("{\"command\": \"generate\", \"out\": \"a\", \"options\": {\"--steps\": \"many\"}}", "--steps"),
                    new Case("{\"command\": \"generate\", \"out\": \"a\", \"options\": {\"--stesp\": \"3\"}}", "--stesp"),
                    new Case("{\"command\": \"generate\", \"out\": \"a\", \"options\": {\"--out\": \"/etc\"}}", "--out"),
                    new Case("{\"command\": \"rm -rf\", \"out\": \"a\"}", "command"),
                    new Case("{\"command\": \"generate\", \"out\": \"\"}", "out"),
                    new Case("{\"command\": \"generate\", \"out\": \"a\", \"options\": [1]}", "options"))) {
                Http.Answer a = post(http, "/api/jobs", c.body());
                assertThat(a.status()).as(c.body()).isEqualTo(400);
                assertThat(a.json().get("field").asText()).as(c.body()).isEqualTo(c.field());
            }
            assertThat(post(http, "/api/jobs", "{\"command\": \"generate\", \"out\": \"../up\"}").status()).isEqualTo(403);
            Files.createDirectories(tmp.resolve("taken"));
            Http.Answer taken = post(http, "/api/jobs", "{\"command\": \"generate\", \"out\": \"taken\"}");
            assertThat(taken.json().get("field").asText()).isEqualTo("out");
            assertThat(http.get("/api/jobs").json().get("jobs")).isEmpty();
        });
    }

    @Test
    void jobsRunOneAtATimeWithLiveProgressAndLandUnderRuns() {
        test(http -> {
            List<String> events = new CopyOnWriteArrayList<>();
            var stream = HttpClient.newHttpClient().sendAsync(HttpRequest.newBuilder(URI.create(http.origin()
                    + "/api/jobs/events")).header(Auth.HEADER, TOKEN).header("Accept", "text/event-stream").build(),
                    HttpResponse.BodyHandlers.ofLines());
            stream.thenAccept(r -> {
                events.add("status " + r.statusCode());
                r.body().filter(l -> l.startsWith("data:")).forEach(events::add);
            });

            Http.Answer first = post(http, "/api/jobs", "{\"command\": \"generate\", \"out\": \"one\", \"options\":"
                    + " {\"--prompt\": \"a fox\", \"--steps\": \"6\", \"--karras\": true}}");
            assertThat(first.status()).as(first.text()).isEqualTo(201);
            assertThat(first.json().get("args")).extracting(JsonNode::asText)
                    .containsSubsequence("--prompt", "a fox", "--steps", "6", "--karras", "--out");
            Http.Answer second = post(http, "/api/jobs", "{\"command\": \"generate\", \"out\": \"nested/two\","
                    + " \"options\": {\"--steps\": \"2\"}}");
            String id1 = first.json().get("id").asText();
            String id2 = second.json().get("id").asText();
            waitFor(http, id1, "running");
            assertThat(http.get("/api/jobs").json().get("jobs").get(1).get("state").asText()).isEqualTo("queued");

            // other requests are answered while the job runs
            assertThat(Http.concurrently(40, 4, i -> http.get("/api/runs"))).containsOnly(200);

            JsonNode done = waitFor(http, id1, "complete");
            assertThat(done.get("done").asInt()).isEqualTo(6);
            assertThat(done.get("total").asInt()).isEqualTo(6);
            waitFor(http, id2, "complete");
            JsonNode runs = http.get("/api/runs").json().get("runs");
            assertThat(runs).extracting(r -> r.get("id").asText()).contains("one", "nested/two");

            for (int i = 0; i < 100 && events.stream().noneMatch(e -> e.contains("\"id\":\"" + id2 + "\"") && e.contains("complete")); i++) {
                Thread.sleep(50);
            }
            assertThat(events).as("the event stream").contains("status 200");
            List<Integer> steps = events.stream().filter(e -> e.contains("\"id\":\"" + id1 + "\""))
                    .map(JobsApiTest::done).distinct().toList();
            assertThat(steps).containsSubsequence(1, 2, 3, 4, 5, 6);           // each step seen live
            stream.cancel(true);
        });
    }

    private static int done(String dataLine) {
        try {
            return Json.MAPPER.readTree(dataLine.substring(5)).get("done").asInt();
        } catch (IOException e) {
            throw new AssertionError(dataLine, e);
        }
    }

    @Test
    void cancelStopsARunningJobAndDropsAQueuedOne() {
        test(http -> {
            String id1 = post(http, "/api/jobs", "{\"command\": \"generate\", \"out\": \"slow\", \"options\": {\"--steps\": \"200\"}}")
                    .json().get("id").asText();
            String id2 = post(http, "/api/jobs", "{\"command\": \"generate\", \"out\": \"next\"}").json().get("id").asText();
            waitFor(http, id1, "running");
            assertThat(post(http, "/api/jobs/cancel?id=" + id2, "").status()).isEqualTo(200);
            waitFor(http, id2, "cancelled");
            long t0 = System.nanoTime();
            post(http, "/api/jobs/cancel?id=" + id1, "");
            waitFor(http, id1, "cancelled");
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isLessThan(5);
            assertThat(tmp.resolve("next")).doesNotExist();
            assertThat(post(http, "/api/jobs/cancel?id=99", "").status()).isEqualTo(404);
        });
    }
}
