package dev.unetlens.web;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/** Requests to a running test server, as bytes (pictures, float16 frames) or JSON, with or without the token. */
record Http(String origin, String token) {
    private static final HttpClient CLIENT = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    record Answer(int status, byte[] body, java.net.http.HttpHeaders headers) {
        JsonNode json() {
            try {
                return Json.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + new String(body, StandardCharsets.UTF_8), e);
            }
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }
    }

    /** Runs body against a fresh server over runs (without jobs), with Javalin's test tools. */
    static void serve(java.nio.file.Path runs, String token, ServerApiTest.ThrowingConsumer<Http> body) {
        io.javalin.Javalin app = WebServer.create(new ServeConfig(runs, null, "127.0.0.1", 0, token));
        io.javalin.testtools.JavalinTest.test(app, (server, client) -> body.accept(new Http(client.getOrigin(), token)));
    }

    Answer get(String pathAndQuery) {
        return send(HttpRequest.newBuilder(URI.create(origin + pathAndQuery)).header(Auth.HEADER, token).GET());
    }

    Answer anonymous(String pathAndQuery) {
        return send(HttpRequest.newBuilder(URI.create(origin + pathAndQuery)).GET());
    }

    Answer send(HttpRequest.Builder b) {
        try {
            HttpResponse<byte[]> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Answer(r.statusCode(), r.body(), r.headers());
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** A request line sent as written, byte for byte (no client normalises it): the status and the whole answer. */
    String raw(String requestTarget) {
        URI u = URI.create(origin);
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            OutputStream out = s.getOutputStream();
            out.write(("GET " + requestTarget + " HTTP/1.1\r\nHost: localhost:" + u.getPort() + "\r\n" + Auth.HEADER
                    + ": " + token + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Runs {@code n} requests on {@code threads} threads; answers their statuses in order. */
    static java.util.List<Integer> concurrently(int n, int threads, java.util.function.IntFunction<Answer> request)
            throws Exception {
        var pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            java.util.List<java.util.concurrent.Future<Integer>> answers = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                answers.add(pool.submit(() -> request.apply(k).status()));
            }
            java.util.List<Integer> out = new java.util.ArrayList<>();
            for (var f : answers) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
