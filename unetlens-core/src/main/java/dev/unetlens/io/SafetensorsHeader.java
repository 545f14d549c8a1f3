package dev.unetlens.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import dev.unetlens.Messages;
import dev.unetlens.io.SafetensorsException.Rule;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static com.fasterxml.jackson.core.JsonToken.END_ARRAY;
import static com.fasterxml.jackson.core.JsonToken.FIELD_NAME;
import static com.fasterxml.jackson.core.JsonToken.START_ARRAY;
import static com.fasterxml.jackson.core.JsonToken.START_OBJECT;

/**
 * Parses and validates a safetensors header as the reference reader does ({@code SafeTensors::read_metadata} and
 * {@code Metadata::validate} in {@code huggingface/safetensors}, {@code safetensors/src/tensor.rs}), one rule per
 * {@link Rule}. Reads only the header bytes, never the data section.
 *
 * <p>Where it matches the reference exactly: leading and trailing JSON whitespace is allowed around the object;
 * unknown keys inside a tensor entry are ignored; {@code "__metadata__": null} means no metadata; tensors are
 * sorted by {@code (begin, end)} before the contiguity check, so header order does not matter; element count and
 * {@code count * bits} are multiplied left to right with overflow checks; a 0-dim shape is one element.
 *
 * <p>Where it is stricter, on purpose: duplicate keys are rejected at every level (serde keeps the last tensor
 * entry); names with NUL or unpaired surrogates are rejected; dtypes unetlens does not read (F4, F6_*, F8_E8M0,
 * the FNUZ fp8 types, C64) are rejected; shape entries of 2^63 or more are rejected (Java longs; the reference
 * would accept such a dimension only in a zero-element tensor); shapes have at most {@link #MAX_RANK} dimensions.
 */
final class SafetensorsHeader {
    static final String METADATA_KEY = "__metadata__";
    /**
     * Most dimensions a shape may have. The reference has no limit; this one keeps a hostile 100 MB header of
     * {@code [0,0,0,...]} from costing gigabytes, far above any real tensor (numpy stops at 64).
     */
    static final int MAX_RANK = 1024;

    /** Dtypes the reference reads that {@link DType} does not have. */
    private static final Set<String> REFERENCE_ONLY_DTYPES =
            Set.of("F4", "F6_E2M3", "F6_E3M2", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "C64");

    /**
     * No limit on string and name length (a 100 MB header may hold one long string), no field-name
     * canonicalization (its collision guard throws on adversarial names), and serde_json's nesting limit: its
     * recursion budget of 128 runs out on the 128th nested array or object, so 127 levels are the most it reads.
     */
    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength(Integer.MAX_VALUE)
                    .maxNameLength(Integer.MAX_VALUE)
                    .maxNestingDepth(127)
                    .build())
            .build();

    /**
     * A validated header.
     *
     * @param tensors  every tensor, sorted by data offsets
     * @param metadata the {@code __metadata__} map, or null when the header has none
     */
    record Parsed(List<TensorInfo> tensors, Map<String, String> metadata) {
    }

    private final String file;
    private final JsonParser p;

    private SafetensorsHeader(String file, JsonParser p) {
        this.file = file;
        this.p = p;
    }

    /**
     * Validates the header bytes of {@code file} against a data section of {@code dataBytes} bytes.
     *
     * @throws SafetensorsException naming the first broken rule
     */
    static Parsed parse(String file, ByteBuffer header, long dataBytes) {
        String text = decodeUtf8(file, header);
        try (JsonParser p = JSON.createParser(text)) {
            return new SafetensorsHeader(file, p).header(dataBytes);
        } catch (JacksonException e) {
            long at = e.getLocation() == null ? -1 : e.getLocation().getCharOffset();
            throw new SafetensorsException(Rule.HEADER_NOT_JSON, file, null, "header is not valid JSON"
                    + (at >= 0 ? " at character " + at : "") + ": " + firstLine(e.getOriginalMessage()), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);   // a String source does no I/O
        }
    }

    /** Checks the bytes with a strict decoder (through a small buffer), then decodes them once. */
    private static String decodeUtf8(String file, ByteBuffer header) {
        ByteBuffer in = header.duplicate();
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        CharBuffer scratch = CharBuffer.allocate(8192);
        CoderResult r;
        do {
            scratch.clear();
            r = utf8.decode(in, scratch, true);
        } while (r.isOverflow());
        if (!r.isError()) {
            r = utf8.flush(scratch.clear());
        }
        if (r.isError()) {
            throw new SafetensorsException(Rule.HEADER_NOT_UTF8, file, null,
                    "header byte " + in.position() + " (file offset " + (8 + in.position())
                            + ") starts an invalid UTF-8 sequence");
        }
        return StandardCharsets.UTF_8.decode(header.duplicate()).toString();
    }

    private Parsed header(long dataBytes) throws IOException {
        JsonToken t = p.nextToken();
        if (t == null) {
            throw fail(Rule.HEADER_NOT_JSON, null, "header is empty or only whitespace");
        }
        if (t != START_OBJECT) {
            throw fail(Rule.HEADER_NOT_OBJECT, null, "header is " + describe(t) + ", not an object");
        }
        Set<String> keys = new HashSet<>();
        List<TensorInfo> tensors = new ArrayList<>();
        Map<String, String> metadata = null;
        while (p.nextToken() == FIELD_NAME) {
            String key = p.currentName();
            if (!keys.add(key)) {
                throw fail(Rule.DUPLICATE_KEY, key, "the key appears twice in the header");
            }
            p.nextToken();
            if (key.equals(METADATA_KEY)) {
                metadata = metadata();
            } else {
                tensors.add(tensor(key));
            }
        }
        if (p.nextToken() != null) {
            throw fail(Rule.HEADER_NOT_JSON, null, "content after the header object at character "
                    + p.currentTokenLocation().getCharOffset());
        }
        return new Parsed(sortedAndContiguous(tensors, dataBytes), metadata);
    }

    /** {@code __metadata__}: null (none, as serde reads an {@code Option}) or an object of strings. */
    private Map<String, String> metadata() throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != START_OBJECT) {
            throw fail(Rule.BAD_METADATA, null, "__metadata__ is " + describe(t) + ", not an object");
        }
        Map<String, String> m = new LinkedHashMap<>();
        while (p.nextToken() == FIELD_NAME) {
            String key = p.currentName();
            if (m.containsKey(key)) {
                throw fail(Rule.DUPLICATE_KEY, null, "__metadata__ key " + Messages.quote(key)
                        + " appears twice");
            }
            JsonToken v = p.nextToken();
            if (v != JsonToken.VALUE_STRING) {
                throw fail(Rule.BAD_METADATA, null, "__metadata__ value of " + Messages.quote(key)
                        + " is " + describe(v) + ", not a string");
            }
            String value = p.getText();
            if (hasUnpairedSurrogate(key) || hasUnpairedSurrogate(value)) {
                throw fail(Rule.BAD_METADATA, null, "__metadata__ entry " + Messages.quote(key)
                        + " holds an unpaired surrogate, which is not Unicode text");
            }
            m.put(key, value);
        }
        return Collections.unmodifiableMap(m);
    }

    private TensorInfo tensor(String name) throws IOException {
        int nul = name.indexOf('\0');
        if (nul >= 0) {
            throw fail(Rule.BAD_NAME, name, "the name has a NUL character at index " + nul);
        }
        if (hasUnpairedSurrogate(name)) {
            throw fail(Rule.BAD_NAME, name, "the name holds an unpaired surrogate, which is not Unicode text");
        }
        if (p.currentToken() != START_OBJECT) {
            throw fail(Rule.BAD_ENTRY, name, "the entry is " + describe(p.currentToken()) + ", not an object");
        }
        DType dtype = null;
        long[] shape = null;
        long[] offsets = null;
        Set<String> fields = new HashSet<>();
        while (p.nextToken() == FIELD_NAME) {
            String field = p.currentName();
            if (!fields.add(field)) {
                throw fail(Rule.DUPLICATE_KEY, name, "key " + Messages.quote(field)
                        + " appears twice in the entry");
            }
            p.nextToken();
            switch (field) {
                case "dtype" -> dtype = dtype(name);
                case "shape" -> shape = integers(name, "shape", Rule.BAD_SHAPE, MAX_RANK);
                case "data_offsets" -> offsets = integers(name, "data_offsets", Rule.BAD_OFFSETS, 2);
                default -> {   // serde ignores unknown fields, but still parses their strings
                    requireUnicode(name, field);
                    skip(name);
                }
            }
        }
        if (dtype == null || shape == null || offsets == null) {
            String missing = dtype == null ? "dtype" : shape == null ? "shape" : "data_offsets";
            throw fail(Rule.BAD_ENTRY, name, "the entry has no " + missing);
        }
        if (offsets.length != 2) {
            throw fail(Rule.BAD_OFFSETS, name, "data_offsets has " + offsets.length + " entries, not 2");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw fail(Rule.BAD_OFFSETS, name, "data_offsets end " + end + " is before begin " + begin);
        }
        long bytes = byteSize(name, dtype, shape);
        if (bytes != end - begin) {
            throw fail(Rule.SIZE_MISMATCH, name, "data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes but shape " + Messages.shape(shape) + " of " + dtype + " needs " + bytes);
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private DType dtype(String name) throws IOException {
        JsonToken t = p.currentToken();
        if (t != JsonToken.VALUE_STRING) {
            throw fail(Rule.BAD_DTYPE, name, "dtype is " + describe(t) + ", not a string");
        }
        String s = p.getText();
        return DType.fromSafetensors(s).orElseThrow(() -> fail(Rule.BAD_DTYPE, name, "dtype "
                + Messages.quote(s) + (REFERENCE_ONLY_DTYPES.contains(s)
                ? " is a safetensors dtype that unetlens does not read" : " is not a safetensors dtype")));
    }

    /**
     * A JSON array of at most {@code max} integers in [0, 2^63); "-0", fractions and exponents are refused as serde
     * refuses them.
     */
    private long[] integers(String name, String field, Rule rule, int max) throws IOException {
        JsonToken t = p.currentToken();
        if (t != START_ARRAY) {
            throw fail(rule, name, field + " is " + describe(t) + ", not an array");
        }
        long[] values = new long[4];
        int n = 0;
        while ((t = p.nextToken()) != END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT || p.getText().startsWith("-")) {
                throw fail(rule, name, field + "[" + n + "] is " + describe(t) + ", not a non-negative integer");
            }
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                throw fail(rule, name, field + "[" + n + "] is " + describe(t) + ", more than 2^63 - 1");
            }
            if (n == max) {
                throw fail(rule, name, field + " has more than " + max + " entries");
            }
            if (n == values.length) {
                values = Arrays.copyOf(values, n * 2);
            }
            values[n++] = p.getLongValue();
        }
        return Arrays.copyOf(values, n);
    }

    /** Skips a value the reader ignores, still rejecting duplicate keys inside it. */
    private void skip(String name) throws IOException {
        JsonToken t = p.currentToken();
        if (t == START_OBJECT) {
            Set<String> keys = new HashSet<>();
            while (p.nextToken() == FIELD_NAME) {
                requireUnicode(name, p.currentName());
                if (!keys.add(p.currentName())) {
                    throw fail(Rule.DUPLICATE_KEY, name, "key " + Messages.quote(p.currentName())
                            + " appears twice in an object of the entry");
                }
                p.nextToken();
                skip(name);
            }
        } else if (t == START_ARRAY) {
            while (p.nextToken() != END_ARRAY) {
                skip(name);
            }
        } else if (t == JsonToken.VALUE_STRING) {
            requireUnicode(name, p.getText());
        }
    }

    /**
     * Refuses a string whose {@code \\u} escapes leave an unpaired surrogate (UTF-8 itself cannot hold one): serde_json
     * refuses it even in a value it ignores.
     */
    private void requireUnicode(String name, String s) {
        if (hasUnpairedSurrogate(s)) {
            throw fail(Rule.HEADER_NOT_JSON, name, "a \\u escape near character "
                    + p.currentTokenLocation().getCharOffset()
                    + " leaves an unpaired surrogate, which is not Unicode text");
        }
    }

    /** {@code product(shape) * bits / 8}, multiplied left to right with overflow checks as the reference does. */
    private long byteSize(String name, DType dtype, long[] shape) {
        try {
            long count = 1;
            for (long d : shape) {
                count = Math.multiplyExact(count, d);
            }
            return Math.multiplyExact(count, dtype.size() * 8L) / 8;
        } catch (ArithmeticException e) {
            throw fail(Rule.OVERFLOW, name, "shape " + Messages.shape(shape) + " of " + dtype
                    + " has more bytes than 64 bits can count");
        }
    }

    /** Sorts by {@code (begin, end)} as the reference does, then checks that the tensors tile the data section. */
    private List<TensorInfo> sortedAndContiguous(List<TensorInfo> tensors, long dataBytes) {
        List<TensorInfo> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expected = 0;
        String previous = null;
        for (TensorInfo t : sorted) {
            if (t.begin() != expected) {
                String after = previous == null ? "the start of the data section"
                        : "tensor " + Messages.quote(previous) + ", which ends at " + expected;
                throw fail(Rule.NOT_CONTIGUOUS, t.name(), "data_offsets [" + t.begin() + ", " + t.end() + "] "
                        + (t.begin() < expected ? "overlap " : "leave a gap after ") + after);
            }
            expected = t.end();
            previous = t.name();
        }
        if (expected != dataBytes) {
            throw fail(Rule.DATA_NOT_COVERED, null, expected < dataBytes
                    ? "the tensors end at data byte " + expected + " but the data section has " + dataBytes
                            + " bytes: " + (dataBytes - expected) + " trailing bytes"
                    : "the tensors need " + expected + " data bytes but the file holds " + dataBytes
                            + ": the file is truncated");
        }
        return List.copyOf(sorted);
    }

    private String describe(JsonToken t) throws IOException {
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "the string " + Messages.quote(p.getText());
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "the number " + cut(p.getText());
            case VALUE_TRUE, VALUE_FALSE, VALUE_NULL -> p.getText();
            default -> t.asString() == null ? t.name() : t.asString();
        };
    }

    private static String cut(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    static boolean hasUnpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "parse error";
        }
        int nl = s.indexOf('\n');
        return cut200(nl < 0 ? s : s.substring(0, nl));
    }

    private static String cut200(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    private SafetensorsException fail(Rule rule, String tensor, String detail) {
        return new SafetensorsException(rule, file, tensor, detail);
    }
}
