package dev.unetlens.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code unetlens serve}: the URL with its token, the local default, the warning for other hosts, bad options. */
class ServeCliTest {
    @TempDir
    Path tmp;

    @AfterEach
    void reset() {
        ServeCommand.onStart = null;
    }

    @Test
    void printsTheUrlWithTokenAndServesOnlyWithIt() {
        AtomicInteger without = new AtomicInteger();
        StringBuilder url = new StringBuilder();
        ServeCommand.onStart = app -> {
            try {
                HttpClient c = HttpClient.newHttpClient();
                String base = "http://127.0.0.1:" + app.port();
                without.set(c.send(HttpRequest.newBuilder(URI.create(base + "/api/runs")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode());
                url.append(base);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        };
        CliRun run = CliRun.of("serve", "--runs", tmp.resolve("runs").toString(), "--port", "0");
        assertThat(run.code()).as(run.err()).isZero();
        Matcher m = Pattern.compile("open http://127\\.0\\.0\\.1:(\\d+)/\\?token=([0-9a-f]{48})").matcher(run.out());
        assertThat(m.find()).as(run.out()).isTrue();
        assertThat(url.toString()).endsWith(":" + m.group(1));
        assertThat(without.get()).isEqualTo(401);
        assertThat(run.err()).doesNotContain("warning");
        assertThat(tmp.resolve("runs")).isDirectory();
    }

    @Test
    void anotherHostIsServedOnlyWhenAskedAndWithAWarning() {
        ServeCommand.onStart = app -> { };
        CliRun run = CliRun.of("serve", "--runs", tmp.toString(), "--port", "0", "--host", "0.0.0.0");
        assertThat(run.code()).isZero();
        assertThat(run.err()).contains("warning: --host 0.0.0.0 is not this machine only");
        assertThat(run.out()).contains("open http://127.0.0.1:");
    }

    @Test
    void badOptionsAreOneLineErrors() throws Exception {
        ServeCommand.onStart = app -> { };
        Files.writeString(tmp.resolve("file"), "x");
        assertThat(CliRun.of("serve", "--runs", tmp.resolve("file").toString()).errorLines())
                .singleElement().asString().contains("--runs").contains("not a folder");
        assertThat(CliRun.of("serve", "--runs", tmp.toString(), "--port", "70000").errorLines())
                .singleElement().asString().contains("--port must be in [0, 65535], got 70000");
        assertThat(CliRun.of("serve", "--runs", tmp.toString(), "--model", tmp.resolve("none").toString()).errorLines())
                .singleElement().asString().contains("no such model");
        assertThat(CliRun.of("serve", "--runs", tmp.toString(), "--port", "0", "--host", "no-such-host.invalid").errorLines())
                .singleElement().asString().contains("cannot listen on no-such-host.invalid");
    }
}
