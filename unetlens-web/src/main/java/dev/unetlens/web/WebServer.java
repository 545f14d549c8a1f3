package dev.unetlens.web;

import dev.unetlens.Messages;
import dev.unetlens.web.assets.Assets;
import dev.unetlens.web.attention.AttentionApi;
import dev.unetlens.web.features.FeaturesApi;
import dev.unetlens.web.jobs.JobLauncher;
import dev.unetlens.web.jobs.Jobs;
import dev.unetlens.web.jobs.JobsApi;
import dev.unetlens.web.labels.LabelsApi;
import dev.unetlens.web.runs.Manifests;
import dev.unetlens.web.runs.RunIndex;
import dev.unetlens.web.runs.RunsApi;
import dev.unetlens.web.runs.RunsRoot;
import dev.unetlens.web.similarity.SimilarityApi;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;

import java.util.Locale;

/**
 * The explorer's server: the token check before every request, the API under {@code /api/}, the pages and their
 * scripts under {@code /} and {@code /static/}. Every refusal is a JSON object with a one-line message (see
 * {@link ApiError}); an unforeseen exception is a 500 with its one-line message, never a stack trace.
 */
public final class WebServer {
    /** The largest request body accepted (labels, job forms): 1 MiB. */
    public static final long MAX_REQUEST_BYTES = 1L << 20;

    private WebServer() {
    }

    /** The server without jobs (the pages that read runs only). */
    public static Javalin create(ServeConfig config) {
        return create(config, null);
    }

    /**
     * The server, configured but not started ({@link Javalin#start()}: host and port from the config); with a
     * launcher, jobs can be started from the Jobs page (they are cancelled when the server stops).
     */
    public static Javalin create(ServeConfig config, JobLauncher launcher) {
        RunsRoot root = new RunsRoot(config.runs());
        RunIndex index = new RunIndex(root);
        Manifests manifests = new Manifests();
        Auth auth = new Auth(config.token(), config.host());
        return Javalin.create(c -> {
            c.jetty.host = config.host();
            c.jetty.port = config.port();
            c.http.maxRequestSize = MAX_REQUEST_BYTES;
            c.startup.showJavalinBanner = false;
            c.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
            c.jetty.modifyServletContextHandler(h -> h.setErrorHandler(new JsonErrorHandler()));
            c.routes.before(ctx -> securityHeaders(ctx));
            c.routes.before(auth::check);
            errors(c);
            Assets.routes(c);
            new RunsApi(root, index).routes(c);
            new FeaturesApi(root, manifests).routes(c);
            new AttentionApi(root, manifests).routes(c);
            new SimilarityApi(root, manifests).routes(c);
            new LabelsApi(root, manifests).routes(c);
            if (launcher != null) {
                Jobs jobs = new Jobs(launcher);
                new JobsApi(root, jobs, config.model()).routes(c);
                c.events.serverStopping(jobs::close);
            }
        });
    }

    private static void securityHeaders(Context ctx) {
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Referrer-Policy", "no-referrer");
        ctx.header("X-Frame-Options", "DENY");
        ctx.header("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; "
                + "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'");
    }

    private static void errors(JavalinConfig c) {
        c.routes.exception(ApiError.class, (e, ctx) -> error(ctx, e.status(), e.getMessage(), e.field()));
        c.routes.exception(HttpResponseException.class, (e, ctx) ->
                error(ctx, e.getStatus(), Messages.line(e.getMessage()), null));
        c.routes.exception(Exception.class, (e, ctx) ->
                error(ctx, 500, "internal error: " + Messages.line(String.valueOf(e.getMessage())), null));
        c.routes.error(404, ctx -> {
            if (ctx.result() == null) {
                error(ctx, 404, "no such page or API endpoint: " + ctx.method() + " " + ctx.path(), null);
            }
        });
        c.routes.error(405, ctx -> error(ctx, 405, ctx.method() + " is not allowed on " + ctx.path(), null));
        c.routes.error(413, ctx -> error(ctx, 413, "the request is larger than " + MAX_REQUEST_BYTES + " bytes", null));
    }

    /** Answers a refusal: {@code {"error": message, "status": status, "field": field}}. */
    static void error(Context ctx, int status, String message, String field) {
        var o = Json.object().put("error", message).put("status", status);
        if (field != null) {
            o.put("field", field);
        }
        ctx.status(status);
        Json.send(ctx, o);
    }

    /** The URL to print: with the token, and a name browsers accept for a wildcard bind. */
    public static String url(ServeConfig config, int port) {
        String h = config.host();
        if (h.equals("0.0.0.0") || h.equals("::") || h.equals("[::]")) {
            h = "127.0.0.1";
        } else if (h.contains(":") && !h.startsWith("[")) {
            h = "[" + h + "]";
        }
        return "http://" + h.toLowerCase(Locale.ROOT) + ":" + port + "/?token=" + config.token();
    }
}
