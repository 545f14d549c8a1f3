package dev.unetlens.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A parsed {@code config.json} with typed getters that apply the reference library's default when a key is
 * missing or null, and fail with one line naming the file and field when a value has the wrong type.
 */
public final class JsonConfig {
    /** diffusers writes Python's {@code -Infinity}/{@code NaN} into configs (DPM-Solver's lambda_min_clipped). */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private final String source;
    private final ObjectNode root;

    public JsonConfig(String source, ObjectNode root) {
        this.source = source;
        this.root = root;
    }

    public static JsonConfig read(Path file) {
        try {
            JsonNode n = JSON.readTree(Files.readString(file));
            if (n == null || !n.isObject()) {
                throw new ConfigException(file + ": not a JSON object");
            }
            return new JsonConfig(file.toString(), (ObjectNode) n);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file", e);
        } catch (JsonProcessingException e) {
            throw new ConfigException(file + ": not valid JSON (" + e.getOriginalMessage() + ")", e);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    public static JsonConfig parse(String source, String json) {
        try {
            JsonNode n = JSON.readTree(json);
            if (n == null || !n.isObject()) {
                throw new ConfigException(source + ": not a JSON object");
            }
            return new JsonConfig(source, (ObjectNode) n);
        } catch (JsonProcessingException e) {
            throw new ConfigException(source + ": not valid JSON (" + e.getOriginalMessage() + ")", e);
        }
    }

    public String source() {
        return source;
    }

    public ObjectNode node() {
        return root;
    }

    public boolean has(String key) {
        JsonNode n = root.get(key);
        return n != null && !n.isNull();
    }

    private JsonNode get(String key) {
        JsonNode n = root.get(key);
        return n == null || n.isNull() ? null : n;
    }

    public ConfigException error(String key, String problem) {
        return new ConfigException(source + ": " + key + " " + problem);
    }

    public int integer(String key, int dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw error(key, "must be an integer, got " + n);
        }
        return n.asInt();
    }

    public int requiredInt(String key) {
        if (!has(key)) {
            throw error(key, "is missing");
        }
        return integer(key, 0);
    }

    public double number(String key, double dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isNumber()) {
            throw error(key, "must be a number, got " + n);
        }
        return n.asDouble();
    }

    public boolean bool(String key, boolean dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw error(key, "must be true or false, got " + n);
        }
        return n.asBoolean();
    }

    public String string(String key, String dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isTextual()) {
            throw error(key, "must be a string, got " + n);
        }
        return n.asText();
    }

    public Optional<String> optionalString(String key) {
        return Optional.ofNullable(string(key, null));
    }

    /** A string that must be one of {@code allowed}. */
    public String choice(String key, String dflt, Set<String> allowed) {
        String v = string(key, dflt);
        if (v != null && !allowed.contains(v)) {
            throw error(key, "'" + v + "' is not supported (supported: " + String.join(", ", new java.util.TreeSet<>(allowed)) + ")");
        }
        return v;
    }

    public List<Integer> intList(String key, List<Integer> dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isArray()) {
            throw error(key, "must be a list of integers, got " + n);
        }
        List<Integer> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                throw error(key, "must be a list of integers, got " + n);
            }
            out.add(e.asInt());
        }
        return List.copyOf(out);
    }

    /** An int or a list of ints, expanded to {@code n} entries (an int repeats). */
    public List<Integer> intOrList(String key, Integer dflt, int n) {
        JsonNode v = get(key);
        if (v == null) {
            if (dflt == null) {
                return null;
            }
            return java.util.Collections.nCopies(n, dflt);
        }
        if (v.isIntegralNumber()) {
            return java.util.Collections.nCopies(n, v.asInt());
        }
        List<Integer> list = intList(key, null);
        if (list.size() != n) {
            throw error(key, "has " + list.size() + " entries, expected " + n + " (one per block)");
        }
        return list;
    }

    public List<String> stringList(String key, List<String> dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isArray()) {
            throw error(key, "must be a list of strings, got " + n);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw error(key, "must be a list of strings, got " + n);
            }
            out.add(e.asText());
        }
        return List.copyOf(out);
    }

    /** Fails if the key is present with a value other than {@code allowed} (a feature unetlens does not implement). */
    public void requireAbsentOr(String key, Object allowed) {
        JsonNode n = get(key);
        if (n == null) {
            return;
        }
        boolean ok = allowed == null ? false
                : allowed instanceof Boolean b ? n.isBoolean() && n.asBoolean() == b
                : allowed instanceof Number num ? n.isNumber() && n.asDouble() == num.doubleValue()
                : n.isTextual() && n.asText().equals(allowed);
        if (!ok) {
            throw error(key, "= " + n + " is not supported by unetlens" + (allowed == null ? "" : " (only " + allowed + ")"));
        }
    }
}
