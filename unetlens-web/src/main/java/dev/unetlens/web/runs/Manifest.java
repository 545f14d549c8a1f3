package dev.unetlens.web.runs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.unetlens.io.IoErrors;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.web.ApiError;
import dev.unetlens.web.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A run's {@code manifest.json} as the server reads it: never trusted to be whole or well-formed. {@link #read}
 * answers either the parsed tree or the one-line problem that keeps it from being read.
 *
 * @param dir     the run directory
 * @param json    the manifest, or a MissingNode when it cannot be read
 * @param problem why it cannot be read, or null
 */
public record Manifest(Path dir, JsonNode json, String problem) {
    /** Manifests larger than this are refused (a manifest lists files; 16 MiB is hundreds of thousands). */
    public static final long MAX_BYTES = 16L << 20;

    public static Manifest read(Path dir) {
        Path file = dir.resolve(OutputDirectory.MANIFEST);
        if (!Files.isRegularFile(file)) {
            boolean partial = hasPartialFiles(dir);
            return new Manifest(dir, MissingNode.getInstance(), partial
                    ? "half-written: files being written and no manifest.json yet"
                    : "no manifest.json: not a unetlens run, or one that wrote nothing");
        }
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                return new Manifest(dir, MissingNode.getInstance(), "manifest.json is " + size + " bytes, over the "
                        + MAX_BYTES + " the explorer reads");
            }
            JsonNode n = Json.MAPPER.readTree(Files.readAllBytes(file));
            if (n == null || !n.isObject()) {
                return new Manifest(dir, MissingNode.getInstance(), "manifest.json is not a JSON object");
            }
            if (!n.path("files").isArray()) {
                return new Manifest(dir, n, "manifest.json has no list of files");
            }
            return new Manifest(dir, n, null);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            return new Manifest(dir, MissingNode.getInstance(), "manifest.json is not valid JSON ("
                    + dev.unetlens.Messages.line(e.getOriginalMessage()) + ")");
        } catch (IOException e) {
            return new Manifest(dir, MissingNode.getInstance(), "cannot read manifest.json: " + IoErrors.reason(e));
        }
    }

    /** Whether the directory holds folders of partial files (a run being written, or killed). */
    static boolean hasPartialFiles(Path dir) {
        try (var s = Files.list(dir)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith(OutputDirectory.PARTIAL_PREFIX));
        } catch (IOException e) {
            return false;
        }
    }

    /** The manifest, or a 422 saying why the run cannot be read. */
    public JsonNode require() {
        if (problem != null) {
            throw ApiError.unreadable(problem);
        }
        return json;
    }

    public String command() {
        return json.path("command").asText("");
    }

    public String status() {
        return json.path("status").asText("");
    }

    /** The listed files' entries. */
    public List<JsonNode> files() {
        List<JsonNode> out = new ArrayList<>();
        json.path("files").forEach(out::add);
        return out;
    }

    /** The entry of a listed file, or null. */
    public JsonNode file(String name) {
        for (JsonNode f : json.path("files")) {
            if (name.equals(f.path("file").asText(null))) {
                return f;
            }
        }
        return null;
    }
}
