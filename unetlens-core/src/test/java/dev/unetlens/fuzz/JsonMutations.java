package dev.unetlens.fuzz;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Edits of a JSON file the way a corrupt, hand-edited or hostile config differs from a valid one: one value replaced
 * by a hostile one (any type: limits of int and long, Python's big ints, NaN, lone surrogates, deep nesting), an
 * integer nudged (±1, ×2, ×2²⁰, negated), a key deleted or added, or the text itself broken (trailing content, a NUL,
 * a BOM, a duplicate key, truncation, a flipped byte, invalid UTF-8).
 */
final class JsonMutations {
    private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
    private static final String MARK = "@@fuzz-value@@";

    /** A place in the tree: a field of an object or an element of an array. */
    private record Slot(JsonNode container, String field, int index, int depth) {
        JsonNode value() {
            return field != null ? container.get(field) : container.get(index);
        }

        void set(JsonNode v) {
            if (field != null) {
                ((ObjectNode) container).set(field, v);
            } else {
                ((ArrayNode) container).set(index, v);
            }
        }

        String path() {
            return field != null ? field : "[" + index + "]";
        }
    }

    private JsonMutations() {
    }

    /**
     * One edit of {@code json}; {@code keys} are keys worth adding (the format's known keys), {@code note} receives what
     * was done.
     */
    static byte[] mutate(String json, SplittableRandom rnd, List<String> keys, StringBuilder note) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException("base JSON does not parse", e);
        }
        int op = rnd.nextInt(100);
        if (op < 22 || !(root instanceof ObjectNode obj)) {
            return textEdit(json, rnd, note);
        }
        List<Slot> slots = new ArrayList<>();
        collect(root, 0, slots);
        if (op < 60 && !slots.isEmpty()) {
            Slot s = pickSlot(rnd, slots);
            String v = Mutations.hostileValue(rnd);
            note.append(s.path()).append(" = ").append(shortText(v));
            return withRaw(root, s, v);
        }
        if (op < 75) {
            List<Slot> ints = slots.stream().filter(s -> s.value().isIntegralNumber()).toList();
            if (!ints.isEmpty()) {
                Slot s = pickSlot(rnd, ints);
                long v = s.value().asLong();
                String nudged = switch (rnd.nextInt(6)) {
                    case 0 -> String.valueOf(v + 1);
                    case 1 -> String.valueOf(v - 1);
                    case 2 -> String.valueOf(v * 2);
                    case 3 -> String.valueOf(v << 20);
                    case 4 -> String.valueOf(-v);
                    default -> String.valueOf(v + (1L << 32));
                };
                note.append(s.path()).append(": ").append(v).append(" → ").append(nudged);
                return withRaw(root, s, nudged);
            }
        }
        if (op < 85 && obj.size() > 0) {
            List<String> names = new ArrayList<>();
            obj.fieldNames().forEachRemaining(names::add);
            String k = Mutations.pick(rnd, names);
            obj.remove(k);
            note.append("delete ").append(k);
            return bytes(obj.toString());
        }
        String k = keys.isEmpty() || rnd.nextInt(4) == 0 ? "unknown_" + rnd.nextInt(100) : Mutations.pick(rnd, keys);
        String v = Mutations.hostileValue(rnd);
        obj.set(k, TextNode.valueOf(MARK));
        note.append("add ").append(k).append(" = ").append(shortText(v));
        return bytes(obj.toString().replace("\"" + MARK + "\"", v));
    }

    private static Slot pickSlot(SplittableRandom rnd, List<Slot> slots) {
        List<Slot> top = slots.stream().filter(s -> s.depth() == 0).toList();
        return rnd.nextInt(3) > 0 && !top.isEmpty() ? Mutations.pick(rnd, top) : Mutations.pick(rnd, slots);
    }

    private static void collect(JsonNode n, int depth, List<Slot> out) {
        if (n instanceof ObjectNode o) {
            o.fieldNames().forEachRemaining(f -> {
                out.add(new Slot(o, f, -1, depth));
                collect(o.get(f), depth + 1, out);
            });
        } else if (n instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                out.add(new Slot(a, null, i, depth));
                collect(a.get(i), depth + 1, out);
            }
        }
    }

    /** The tree with the value at {@code s} written as the raw text {@code v}. */
    private static byte[] withRaw(JsonNode root, Slot s, String v) {
        s.set(TextNode.valueOf(MARK));
        return bytes(root.toString().replace("\"" + MARK + "\"", v));
    }

    /** A break in the text itself. */
    static byte[] textEdit(String json, SplittableRandom rnd, StringBuilder note) {
        byte[] b = bytes(json);
        int brace = json.indexOf('{') + 1;
        return switch (rnd.nextInt(10)) {
            case 0 -> {
                String tail = Mutations.pick(rnd, List.of("}garbage", "\u0000", " {}", "]", "x", "\n{\"a\": 1}", "}}"));
                note.append("trailing ").append(shortText(tail));
                yield bytes(json.strip() + tail);
            }
            case 1 -> {
                note.append("UTF-8 BOM first");
                yield Mutations.splice(b, 0, 0, new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf});
            }
            case 2 -> {
                int n = rnd.nextInt(b.length + 1);
                note.append("truncate at ").append(n);
                yield Mutations.truncate(b, n);
            }
            case 3 -> {
                note.append("duplicate key");
                String first = json.substring(brace).strip();
                int colon = first.indexOf(':');
                int comma = first.indexOf(',');
                String dup = colon > 0 && comma > colon ? first.substring(0, comma + 1) : "\"a\": 1, \"a\": 2,";
                yield bytes(json.substring(0, brace) + dup + json.substring(brace));
            }
            case 4 -> {
                int depth = Mutations.pick(rnd, List.of(126, 127, 128, 129, 1000, 100_000));
                note.append("a value nested ").append(depth).append(" deep");
                yield bytes(json.substring(0, brace) + "\"nest\": " + "[".repeat(depth) + "]".repeat(depth) + ","
                        + json.substring(brace));
            }
            case 5 -> {
                note.append("invalid UTF-8");
                yield Mutations.splice(b, brace, 0, new byte[] {'"', 'k', (byte) 0xc3, (byte) 0x28, '"', ':', '1', ','});
            }
            case 6 -> {
                note.append("NUL in the text");
                yield Mutations.splice(b, rnd.nextInt(b.length + 1), 0, new byte[] {0});
            }
            default -> Mutations.byteEdit(rnd, b, 0, b.length, note);
        };
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String shortText(String v) {
        return v.length() > 40 ? v.substring(0, 30) + "…(" + v.length() + " chars)" : v;
    }
}
