package dev.unetlens.web;

import io.javalin.Javalin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Load: feature tiles (64 px; {@code -Dunetlens.load.size}) at a fixed rate (open loop: requests leave on schedule
 * whether or not earlier ones came back), after 200 requests that warm the server up; every answer a 200, and the
 * p95 latency printed. The suite runs {@value #DEFAULT_SECONDS} s at 200 requests per second
 * ({@code -Dunetlens.load.rate}); {@code -Dunetlens.load.seconds=60} runs the minute (the README's figures),
 * and {@code -Dunetlens.load.runs=DIR -Dunetlens.load.run=ID -Dunetlens.load.module=M} loads a real dump instead of
 * the test's own.
 */
class TileLoadTest {
    static final int DEFAULT_SECONDS = 3;
    static final int DEFAULT_RATE = 200;

    @TempDir
    Path tmp;

    @Test
    void tilesAt200PerSecondWithoutError() throws Exception {
        int seconds = Integer.getInteger("unetlens.load.seconds", DEFAULT_SECONDS);
        int rate = Integer.getInteger("unetlens.load.rate", DEFAULT_RATE);
        int size = Integer.getInteger("unetlens.load.size", 64);
        String runsProp = System.getProperty("unetlens.load.runs");
        Path runs = runsProp != null ? Path.of(runsProp) : tmp;
        String run = System.getProperty("unetlens.load.run", "gen");
        String module = System.getProperty("unetlens.load.module", TestRuns.MODULES[0][0]);
        int channels = Integer.getInteger("unetlens.load.channels", 6);
        int steps = Integer.getInteger("unetlens.load.steps", 2);
        if (runsProp == null) {
            TestRuns.generation(tmp.resolve("gen"));
        }
        String token = Auth.newToken();
        Javalin app = WebServer.create(new ServeConfig(runs, null, "127.0.0.1", 0, token)).start();
        ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
        try (HttpClient client = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(4)).build()) {
            String base = "http://localhost:" + app.port() + "/api/features/tile.png?run=" + Http.enc(run)
                    + "&module=" + Http.enc(module) + "&size=" + size + "&color=red-blue";
            for (int i = 0; i < 200; i++) {                  // warm-up: a running server has compiled its paths
                client.send(HttpRequest.newBuilder(URI.create(base + "&step=1&channel=" + i % channels))
                        .header(Auth.HEADER, token).build(), HttpResponse.BodyHandlers.discarding());
            }
            int total = seconds * rate;
            long[] latency = new long[total];
            AtomicInteger errors = new AtomicInteger();
            List<CompletableFuture<?>> all = new ArrayList<>(total);
            long start = System.nanoTime();
            for (int i = 0; i < total; i++) {
                int n = i;
                long due = start + n * 1_000_000_000L / rate;
                CompletableFuture<Void> done = new CompletableFuture<>();
                all.add(done);
                clock.schedule(() -> {
                    long t0 = System.nanoTime();
                    HttpRequest r = HttpRequest.newBuilder(URI.create(base + "&step=" + (1 + n % steps)
                            + "&channel=" + (n % channels))).header(Auth.HEADER, token).build();
                    client.sendAsync(r, HttpResponse.BodyHandlers.ofByteArray()).whenComplete((res, e) -> {
                        latency[n] = System.nanoTime() - t0;
                        if (e != null || res.statusCode() != 200) {
                            errors.incrementAndGet();
                        }
                        done.complete(null);
                    });
                }, due - System.nanoTime(), TimeUnit.NANOSECONDS);
            }
            try {
                CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(seconds + 60L, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError(all.stream().filter(f -> !f.isDone()).count() + " of " + total
                        + " requests unanswered a minute after the last was sent");
            }
            double wall = (System.nanoTime() - start) / 1e9;
            long[] sorted = latency.clone();
            Arrays.sort(sorted);
            System.out.printf(Locale.ROOT, "tile load: %d requests (%d px tiles) in %.1f s (%.0f/s), %d errors, latency"
                            + " p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms%n", total, size, wall, total / wall, errors.get(),
                    ms(sorted, 0.50), ms(sorted, 0.95), ms(sorted, 0.99), sorted[total - 1] / 1e6);
            assertThat(errors.get()).isZero();
        } finally {
            clock.shutdownNow();
            app.stop();
        }
    }

    private static double ms(long[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
    }
}
