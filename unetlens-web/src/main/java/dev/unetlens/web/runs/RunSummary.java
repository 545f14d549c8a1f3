package dev.unetlens.web.runs;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the Runs page shows of one run, from its manifest: command, model, prompt, seed, scheduler, when, how long,
 * a thumbnail, and which views can open it. A run whose manifest cannot be read is listed with its problem.
 *
 * @param id        path under --runs, '/'-separated
 * @param command   generate, extract, analyze, diff, sweep, viz, … (with the mode or kind: "extract images")
 * @param status    the manifest's status (complete, incomplete, failed, interrupted), or "unreadable"
 * @param created   ISO time the run started, or null
 * @param seconds   how long it took (the manifest's timings added up), or null
 * @param model     the model folder or file name, or null
 * @param prompt    the (first) prompt, or null
 * @param seed      the seed, or null
 * @param scheduler the scheduler class, or null
 * @param thumbnail a listed PNG to show small, or null
 * @param views     the views that can open it: files, features, attention, similarity, labeler
 * @param files     how many files the manifest lists
 * @param missing   how many of them are not there (a killed or tampered run)
 * @param problem   why the run cannot be read, or null
 */
public record RunSummary(String id, String command, String status, String created, Double seconds, String model,
                         String prompt, Long seed, String scheduler, String thumbnail, List<String> views, int files,
                         int missing, String problem) {

    static RunSummary unreadable(String id, String problem) {
        return new RunSummary(id, "", "unreadable", null, null, null, null, null, null, null, List.of(), 0, 0, problem);
    }

    static RunSummary of(String id, Manifest m) {
        JsonNode j = m.json();
        JsonNode req = j.path("request");
        List<JsonNode> files = m.files();
        int missing = 0;
        for (JsonNode f : files) {
            String name = f.path("file").asText("");
            if (name.isEmpty() || !Files.isRegularFile(m.dir().resolve(name))) {
                missing++;
            }
        }
        Catalog c = Catalog.of(m);
        List<String> views = new ArrayList<>(List.of("files"));
        if (c.features()) {
            views.add("features");
        }
        if (c.attention()) {
            views.add("attention");
        }
        if (c.images()) {
            views.add("similarity");
            views.add("labeler");
        }
        String problem = m.problem() != null ? m.problem()
                : missing > 0 ? missing + " of the " + files.size() + " listed files are missing" : null;
        return new RunSummary(id, command(j), j.path("status").asText("unknown"), text(j.path("created")),
                seconds(j.path("seconds")), model(j.path("model")), prompt(req), seed(req),
                text(j.path("scheduler").path("_class_name")), thumbnail(m.dir(), files), List.copyOf(views),
                files.size(), missing, problem);
    }

    private static String command(JsonNode j) {
        String c = j.path("command").asText("");
        for (String extra : List.of("mode", "kind", "analysis")) {
            if (j.path(extra).isTextual()) {
                return c + " " + j.path(extra).asText();
            }
        }
        return c;
    }

    private static String text(JsonNode n) {
        return n.isValueNode() && !n.isNull() ? n.asText() : null;
    }

    private static Double seconds(JsonNode s) {
        if (s.path("total").isNumber()) {
            return s.get("total").asDouble();
        }
        double sum = 0;
        boolean any = false;
        for (var it = s.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getValue().isNumber()) {
                sum += e.getValue().asDouble();
                any = true;
            }
        }
        return any ? sum : null;
    }

    private static String model(JsonNode m) {
        String p = m.path("path").asText(null);
        if (p == null) {
            return null;
        }
        Path name = Path.of(p).getFileName();
        return name == null ? p : name.toString();
    }

    private static String prompt(JsonNode req) {
        JsonNode ps = req.path("prompts");
        if (ps.isArray() && !ps.isEmpty()) {
            return ps.get(0).asText();
        }
        return text(req.path("prompt"));
    }

    private static Long seed(JsonNode req) {
        return req.path("seed").isIntegralNumber() ? req.get("seed").asLong() : null;
    }

    /** The first listed PNG that is an image (the generated one, an input), else the first picture. */
    private static String thumbnail(Path dir, List<JsonNode> files) {
        String first = null;
        for (JsonNode f : files) {
            String name = f.path("file").asText("");
            if (!name.endsWith(".png") || !Files.isRegularFile(dir.resolve(name))) {
                continue;
            }
            if (name.startsWith("image") || name.startsWith("inputs/") || name.startsWith("images/")) {
                return name;
            }
            if (first == null) {
                first = name;
            }
        }
        return first;
    }
}
