package dev.unetlens.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.Messages;
import dev.unetlens.io.InputFiles;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A parsed {@code config.json} with typed getters that apply the reference library's default when a key is
 * missing or null, and fail with one line naming the file and field when a value has the wrong type or lies outside
 * its {@link Range}. Integers are never narrowed: {@code 4294967298} is refused, not read as 2.
 *
 * <p>Files are parsed as Python's {@code json.load} parses them (what diffusers and transformers call): one JSON
 * value and nothing after it but whitespace, {@code NaN} / {@code Infinity} / {@code -Infinity} allowed (diffusers
 * writes {@code -Infinity} into DPM-Solver configs), a repeated key keeping its last value.
 */
public final class JsonConfig {
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final String source;
    private final ObjectNode root;

    public JsonConfig(String source, ObjectNode root) {
        this.source = source;
        this.root = root;
    }

    /** Reads a config file, which must be a regular file of JSON text holding one object. */
    public static JsonConfig read(Path file) {
        JsonNode n = readTree(file);
        if (!n.isObject()) {
            throw ConfigException.at(file.toString(), "not a JSON object");
        }
        return new JsonConfig(file.toString(), (ObjectNode) n);
    }

    /** Any JSON value from a regular file of at most {@link InputFiles#MAX_TEXT_BYTES}, parsed as Python does. */
    public static JsonNode readTree(Path file) {
        return tree(file.toString(), InputFiles.readText(file));
    }

    public static JsonConfig parse(String source, String json) {
        JsonNode n = tree(source, json);
        if (!n.isObject()) {
            throw ConfigException.at(source, "not a JSON object");
        }
        return new JsonConfig(source, (ObjectNode) n);
    }

    private static JsonNode tree(String source, String json) {
        try {
            JsonNode n = JSON.readTree(json);
            if (n == null || n.isMissingNode()) {
                throw ConfigException.at(source, "empty; expected a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            String at = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr();
            throw ConfigException.at(source, "not valid JSON" + at + " (" + Messages.value(e.getOriginalMessage()) + ")",
                    e);
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

    /** {@code source: key problem}; {@code key} is written as it is (config keys come from code). */
    public ConfigException error(String key, String problem) {
        return ConfigException.at(source, key + " " + problem);
    }

    /** An integer, or {@code dflt} when missing or null; any int is allowed. */
    public int integer(String key, int dflt) {
        return integer(new Range(key, Integer.MIN_VALUE, Integer.MAX_VALUE), dflt);
    }

    /** The integer {@code range.field()}, or {@code dflt} when missing or null; it must lie in {@code range}. */
    public int integer(Range range, int dflt) {
        JsonNode n = get(range.field());
        return n == null ? dflt : toInt(range, n);
    }

    public int requiredInt(String key) {
        if (!has(key)) {
            throw error(key, "is missing");
        }
        return integer(key, 0);
    }

    /** A JSON integer in {@code range}, or a one-line error naming the field, what it got, and the range. */
    int toInt(Range range, JsonNode n) {
        if (!n.isIntegralNumber()) {
            throw error(range.field(), "must be an integer in " + range + ", got " + Messages.value(n));
        }
        if (!n.canConvertToLong() || !range.contains(n.longValue())) {
            throw error(range.field(), "must be in " + range + ", got " + Messages.value(n));
        }
        return n.intValue();
    }

    public double number(String key, double dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isNumber()) {
            throw error(key, "must be a number, got " + Messages.value(n));
        }
        return n.asDouble();
    }

    public boolean bool(String key, boolean dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw error(key, "must be true or false, got " + Messages.value(n));
        }
        return n.asBoolean();
    }

    public String string(String key, String dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isTextual()) {
            throw error(key, "must be a string, got " + Messages.value(n));
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
            throw error(key, Messages.quote(v) + " is not supported (supported: "
                    + String.join(", ", new TreeSet<>(allowed)) + ")");
        }
        return v;
    }

    /** A list of any number of ints; {@code dflt} when missing. */
    public List<Integer> intList(String key, List<Integer> dflt) {
        return intList(new Range(key, Integer.MIN_VALUE, Integer.MAX_VALUE), dflt, Integer.MAX_VALUE);
    }

    /** An int (repeated) or a list of {@code n} ints; {@code dflt} when missing. */
    public List<Integer> intOrList(String key, Integer dflt, int n) {
        return intOrList(new Range(key, Integer.MIN_VALUE, Integer.MAX_VALUE), dflt, n);
    }

    /** A list of integers, each in {@code range}, of 1 to {@code maxSize} entries; {@code dflt} when missing. */
    public List<Integer> intList(Range range, List<Integer> dflt, int maxSize) {
        JsonNode n = get(range.field());
        if (n == null) {
            return dflt;
        }
        if (!n.isArray()) {
            throw error(range.field(), "must be a list of integers, got " + Messages.value(n));
        }
        if (n.isEmpty() || n.size() > maxSize) {
            throw error(range.field(), "must have 1 to " + maxSize + " entries, got " + n.size());
        }
        List<Integer> out = new ArrayList<>();
        for (JsonNode e : n) {
            out.add(toInt(range, e));
        }
        return List.copyOf(out);
    }

    /** An int (repeated) or a list of {@code n} ints, each in {@code range}; {@code dflt} when missing. */
    public List<Integer> intOrList(Range range, Integer dflt, int n) {
        JsonNode v = get(range.field());
        if (v == null) {
            return dflt == null ? null : Collections.nCopies(n, range.check(dflt));
        }
        if (!v.isArray()) {
            return Collections.nCopies(n, toInt(range, v));
        }
        if (v.size() != n) {
            throw error(range.field(), "has " + v.size() + " entries, expected " + n + " (one per block)");
        }
        return intList(range, null, n);
    }

    public List<String> stringList(String key, List<String> dflt) {
        JsonNode n = get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isArray()) {
            throw error(key, "must be a list of strings, got " + Messages.value(n));
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw error(key, "must be a list of strings, got " + Messages.value(n));
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
        boolean ok = allowed != null && (allowed instanceof Boolean b ? n.isBoolean() && n.asBoolean() == b
                : allowed instanceof Number num ? n.isNumber() && n.asDouble() == num.doubleValue()
                : n.isTextual() && n.asText().equals(allowed));
        if (!ok) {
            throw error(key, "= " + Messages.value(n) + " is not supported by unetlens"
                    + (allowed == null ? "" : " (only " + allowed + ")"));
        }
    }
}
