package dev.unetlens.web.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.unetlens.web.ApiError;
import dev.unetlens.web.Json;
import dev.unetlens.web.Params;
import dev.unetlens.web.runs.RunsRoot;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Jobs: start {@code generate}, {@code extract} or {@code analyze} from a form, follow them live, cancel them.
 * <pre>
 *   GET  /api/jobs                       the commands and every job
 *   GET  /api/jobs/options?command=C     the command's options (the CLI's own, from its parser)
 *   POST /api/jobs                       {"command", "out", "options": {"--steps": "20", "--karras": true, …}}:
 *                                        201 and the job, or 400 naming the option ("field") that is wrong
 *   POST /api/jobs/cancel?id=N           cancel it (a running one is interrupted like Ctrl-C)
 *   GET  /api/jobs/events                server-sent events: "job" with a job's JSON on every change
 * </pre>
 */
public final class JobsApi {
    /** Options the server sets itself. */
    private static final Set<String> RESERVED = Set.of("--out", "--force", "--help", "--version", "-h", "-V");
    private final RunsRoot root;
    private final Jobs jobs;
    private final Path model;

    public JobsApi(RunsRoot root, Jobs jobs, Path model) {
        this.root = root;
        this.jobs = jobs;
        this.model = model;
    }

    public void routes(JavalinConfig c) {
        c.routes.get("/api/jobs", this::list);
        c.routes.get("/api/jobs/options", this::options);
        c.routes.post("/api/jobs", this::submit);
        c.routes.post("/api/jobs/cancel", this::cancel);
        c.routes.sse("/api/jobs/events", this::events);
    }

    private void list(Context ctx) {
        var o = Json.object();
        o.set("commands", Json.MAPPER.valueToTree(jobs.launcher().commands()));
        ArrayNode a = o.putArray("jobs");
        jobs.all().forEach(j -> a.add(j.json()));
        Json.send(ctx, o);
    }

    private String command(String c, String field) {
        if (!jobs.launcher().commands().contains(c)) {
            throw ApiError.badParameter(field, "a job runs one of " + String.join(", ", jobs.launcher().commands())
                    + ", not '" + c + "'");
        }
        return c;
    }

    private void options(Context ctx) {
        String c = command(Params.text(ctx, "command"), "command");
        Json.send(ctx, jobs.launcher().options(c).stream().filter(o -> !RESERVED.contains(o.name())).toList());
    }

    private void submit(Context ctx) {
        JsonNode body = Json.body(ctx);
        String command = command(body.path("command").asText(""), "command");
        String out = body.path("out").asText("");
        Path dir = root.newRun(out);
        List<String> args = args(command, body.path("options"));
        if (model != null && !args.contains("--model")) {
            args.addAll(0, List.of("--model", model.toString()));
        }
        args.addAll(List.of("--out", dir.toString()));
        try {
            jobs.launcher().check(command, args);
        } catch (JobLauncher.JobArgumentException e) {
            throw ApiError.badParameter(e.option() == null ? "command" : e.option(), e.getMessage());
        }
        Job job = jobs.submit(command, args, root.id(dir));
        ctx.status(201);
        Json.send(ctx, job.json());
    }

    /** The form's options as arguments: each a known option of the command; flags true or false; lists repeated. */
    private List<String> args(String command, JsonNode options) {
        if (!options.isMissingNode() && !options.isObject()) {
            throw ApiError.badParameter("options", "'options' must be an object of option names and values");
        }
        Map<String, JobLauncher.OptionInfo> known = new java.util.HashMap<>();
        jobs.launcher().options(command).forEach(o -> known.put(o.name(), o));
        List<String> args = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = options.fields(); it.hasNext(); ) {
            var e = it.next();
            String name = e.getKey();
            JobLauncher.OptionInfo o = known.get(name);
            if (o == null || RESERVED.contains(name)) {
                throw ApiError.badParameter(name, (RESERVED.contains(name) ? "the server sets " + name + " itself"
                        : "'" + command + "' has no option " + name));
            }
            JsonNode v = e.getValue();
            if (o.flag()) {
                if (v.asBoolean(false) || v.asText("").equals("true")) {
                    args.add(name);
                }
                continue;
            }
            List<JsonNode> values = new ArrayList<>();
            if (v.isArray()) {
                v.forEach(values::add);
            } else {
                values.add(v);
            }
            for (JsonNode x : values) {
                if (!x.isValueNode() || x.isNull() || x.asText().isBlank()) {
                    continue;
                }
                if (x.asText().length() > Params.MAX_LENGTH) {
                    throw ApiError.badParameter(name, name + " is longer than " + Params.MAX_LENGTH + " characters");
                }
                args.add(name);
                args.add(x.asText());
            }
        }
        return args;
    }

    private void cancel(Context ctx) {
        Job job = jobs.get(Params.text(ctx, "id"));
        if (job == null) {
            throw ApiError.notFound("no job " + ctx.queryParam("id"));
        }
        jobs.cancel(job);
        Json.send(ctx, job.json());
    }

    private void events(SseClient client) {
        client.keepAlive();
        Consumer<Job> send = j -> {
            if (!client.terminated()) {
                client.sendEvent("job", j.json().toString());
            }
        };
        jobs.all().forEach(send);
        jobs.listen(send);
        client.onClose(() -> jobs.unlisten(send));
    }
}
