package dev.unetlens.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One torch's figures that {@code bench} holds its results against: a reference file ({@code {"label", "what",
 * "cases": [...]}}, as bundled) or the JSON lines that the {@code bench-reference/} scripts print, one case a line
 * ({@code {"case", "median_s", "peak_rss_mb", "torch", "attention", ...}}). Either way each case has the fields of a
 * bench result, so {@link BenchCase#reference} finds it by name.
 *
 * @param label  how tables and progress lines name it ({@code torch 2.6.0 + SDPA})
 * @param source where it was read from
 * @param file   {@code {"what", "cases": [...]}}
 */
public record Baseline(String label, String source, JsonNode file) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A bundled reference file (a resource next to this class). */
    public static Baseline bundled(String resource) {
        try (InputStream in = Baseline.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            return of(new String(in.readAllBytes(), StandardCharsets.UTF_8), "bundled " + resource);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A reference file or a {@code bench-reference/} script's JSON lines. */
    public static Baseline read(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new UnetlensException("--reference: no such file " + path);
        }
        try {
            return of(Files.readString(path), path.toString());
        } catch (IOException e) {
            throw new UnetlensException("--reference: cannot read " + path + ": " + e.getMessage());
        }
    }

    /** Parses {@code text}: one JSON object with {@code cases}, else JSON lines. */
    static Baseline of(String text, String source) {
        try {
            JsonNode whole = JSON.readTree(text);                              // the first value only
            if (whole != null && whole.has("cases")) {
                return new Baseline(whole.path("label").asText(torchLabel(whole.path("cases").path(0))), source, whole);
            }
            ObjectNode file = JSON.createObjectNode();
            ArrayNode cases = file.putArray("cases");
            for (String line : text.split("\n")) {
                if (!line.isBlank()) {
                    cases.add(JSON.readTree(line));
                }
            }
            if (cases.isEmpty() || !cases.get(0).has("case")) {
                throw new UnetlensException("--reference " + source + ": neither a reference file (an object with"
                        + " \"cases\") nor bench-reference JSON lines ({\"case\": …} per line)");
            }
            String label = torchLabel(cases.get(0));
            file.put("what", label + ", same-machine bench-reference scripts (" + source + ")");
            return new Baseline(label, source, file);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UnetlensException("--reference " + source + ": not JSON: " + e.getOriginalMessage());
        }
    }

    /** {@code torch 2.6.0 + SDPA} from a script's line ({@code torch}, {@code attention} fields). */
    private static String torchLabel(JsonNode line) {
        String torch = line.path("torch").asText("?");
        return "torch " + torch + ("sdpa".equals(line.path("attention").asText()) ? " + SDPA" : "");
    }
}
