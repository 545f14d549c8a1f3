package dev.unetlens.web.assets;

import dev.unetlens.web.ApiError;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The front end: plain HTML, CSS and ES modules from the jar ({@code dev/unetlens/web/static/}), no build step. Asset
 * names are one plain segment of letters, digits and '-' with a known extension, so a request can name nothing else.
 */
public final class Assets {
    private static final String BASE = "/dev/unetlens/web/static/";
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}\\.(html|js|css|svg)");
    private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8", "svg", "image/svg+xml");
    private static final Map<String, byte[]> CACHE = new ConcurrentHashMap<>();

    private Assets() {
    }

    public static void routes(JavalinConfig c) {
        c.routes.get("/", ctx -> send(ctx, "index.html"));
        c.routes.get("/static/{name}", ctx -> send(ctx, ctx.pathParam("name")));
    }

    private static void send(Context ctx, String name) {
        if (!NAME.matcher(name).matches()) {
            throw ApiError.notFound("no asset '" + name + "'");
        }
        byte[] bytes = CACHE.computeIfAbsent(name, Assets::load);
        if (bytes.length == 0) {
            throw ApiError.notFound("no asset '" + name + "'");
        }
        ctx.header("Cache-Control", "no-cache");
        ctx.contentType(TYPES.get(name.substring(name.lastIndexOf('.') + 1))).result(bytes);
    }

    private static byte[] load(String name) {
        try (InputStream in = Assets.class.getResourceAsStream(BASE + name)) {
            return in == null ? new byte[0] : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
