package dev.unetlens.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.io.RandomTensors.Spec;
import dev.unetlens.io.RandomTensors.Tensor;
import dev.unetlens.io.SafetensorsException.Rule;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Seeded generated tests: random valid files round-trip byte-exactly through writer and reader, and random
 * corruptions, each built to break one rule, are all rejected with a {@link SafetensorsException} naming that rule.
 */
class SafetensorsGeneratedTest {
    static final int ROUND_TRIPS = 2000;
    static final int CORRUPTIONS = 2000;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    /** A writer for {@code spec}, feeding each tensor through a randomly chosen kind of source. */
    static SafetensorsWriter writer(Spec spec, Random r) {
        SafetensorsWriter w = new SafetensorsWriter();
        if (spec.metadata() != null) {
            w.metadata(spec.metadata());
        }
        for (Tensor t : spec.tensors()) {
            switch (r.nextInt(t.dtype() == DType.F32 ? 5 : 4)) {
                case 0 -> w.add(t.name(), t.dtype(), t.shape(), MemorySegment.ofArray(t.data()));
                case 1 -> w.add(t.name(), t.dtype(), t.shape(), ByteBuffer.wrap(t.data()));
                case 2 -> w.add(t.name(), t.dtype(), t.shape(),
                        ByteBuffer.allocateDirect(t.data().length).put(t.data()).flip());
                case 3 -> w.add(t.name(), t.dtype(), t.shape(), out -> out.write(t.data()));
                default -> w.addFloats(t.name(), t.shape(), RandomTensors.floats(t.data()));
            }
        }
        return w;
    }

    private static byte[] bytes(SafetensorsWriter w) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            w.writeTo(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- round trips --------------------------------------------------------------------------------------------

    static LongStream roundTripSeeds() {
        return LongStream.range(0, ROUND_TRIPS);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("roundTripSeeds")
    void randomFilesRoundTripByteExactly(long seed) throws IOException {
        RandomTensors gen = new RandomTensors(seed);
        Spec spec = gen.spec(false);
        SafetensorsWriter w = writer(spec, gen.random());
        Path f = dir.resolve("rt" + seed + ".safetensors");
        byte[] written;
        if (seed % 50 == 0) {   // the atomic path now and then; it forces every file to disk
            w.write(f);
            written = Files.readAllBytes(f);
        } else {
            written = bytes(w);
            Files.write(f, written);
        }
        try {
            assertThat((long) written.length).isEqualTo(w.fileSize());
            assertLayout(written, spec);
            try (SafetensorsFile st = SafetensorsFile.open(f)) {
                assertThat(st.names()).containsExactlyElementsOf(spec.referenceOrder().stream().map(Tensor::name).toList());
                for (Tensor t : spec.tensors()) {
                    TensorInfo info = st.info(t.name()).orElseThrow();
                    assertThat(info.dtype()).isEqualTo(t.dtype());
                    assertThat(info.shape()).isEqualTo(t.shape());
                    assertThat(st.data(t.name()).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(t.data());
                }
                assertThat(st.hasMetadata()).isEqualTo(spec.metadata() != null);
                if (spec.metadata() != null) {
                    assertThat(List.copyOf(st.metadata().entrySet())).containsExactlyElementsOf(spec.metadata().entrySet());
                }
                SafetensorsWriter again = new SafetensorsWriter().addAll(st);
                if (st.hasMetadata()) {
                    again.metadata(st.metadata());
                }
                assertThat(bytes(again)).as("rewritten from what was read").isEqualTo(written);
            }
        } finally {
            Files.delete(f);
        }
    }

    /** Checks the layout from the spec alone: padded header, data in the reference order. */
    private static void assertLayout(byte[] file, Spec spec) {
        long n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertThat(n % 8).isZero();
        String header = new String(file, 8, (int) n, StandardCharsets.UTF_8);
        assertThat(header).startsWith("{");
        assertThat(header.substring(header.lastIndexOf('}') + 1)).matches(" {0,7}");
        byte[] data = Raw.concat(spec.referenceOrder().stream().map(Tensor::data).toArray(byte[][]::new));
        assertThat(Arrays.copyOfRange(file, (int) (8 + n), file.length)).isEqualTo(data);
    }

    // ---- corruptions --------------------------------------------------------------------------------------------

    /** One way to break a file, each aimed at one rule. */
    enum Mutation {
        LENGTH_PLUS, LENGTH_MINUS, LENGTH_HUGE, LENGTH_PAST_END, TRUNCATE, APPEND, SHIFT_OFFSETS, GAP, OVERLAP,
        SHAPE_CHANGED, DTYPE_WRONG_SIZE, DTYPE_UNKNOWN, DUPLICATE_TENSOR, DUPLICATE_FIELD, DUPLICATE_METADATA,
        INVALID_UTF8, CONTROL_CHAR, TRAILING_JSON, UNCLOSED, NOT_OBJECT, BAD_SHAPE, BAD_OFFSETS, END_BEFORE_BEGIN,
        METADATA_VALUE, METADATA_NOT_OBJECT, NUL_IN_NAME, UNPAIRED_SURROGATE, MISSING_FIELD, ENTRY_NOT_OBJECT,
        OVERFLOW
    }

    static Stream<Arguments> corruptions() {
        Mutation[] all = Mutation.values();
        return LongStream.range(0, CORRUPTIONS).mapToObj(s -> Arguments.of(s, all[(int) (s % all.length)]));
    }

    @ParameterizedTest(name = "{1} seed {0}")
    @MethodSource("corruptions")
    void everyCorruptionIsRejected(long seed, Mutation mutation) throws IOException {
        RandomTensors gen = new RandomTensors(seed);
        Draft draft = new Draft(gen.spec(true), gen.random());
        Path f = dir.resolve("c" + seed + ".safetensors");
        try {
            if (seed % 4 == 0) {   // the unbroken draft is valid, in shuffled header order
                SafetensorsFile.open(Raw.write(f, draft.image())).close();
            }
            Broken broken = corrupt(mutation, draft, gen.random());
            Raw.write(f, broken.image);
            Throwable t = catchThrowable(() -> SafetensorsFile.open(f).close());
            assertThat(t).as("%s must be rejected", mutation).isExactlyInstanceOf(SafetensorsException.class);
            SafetensorsException e = (SafetensorsException) t;
            assertThat(e.rule()).as(e.getMessage()).isIn(broken.rules);
            assertThat(e.getMessage()).startsWith(f + ": ").doesNotContain("\n", "\r");
        } finally {
            Files.deleteIfExists(f);
        }
    }

    private record Broken(byte[] image, Set<Rule> rules) {
    }

    private static Broken corrupt(Mutation m, Draft d, Random r) {
        Draft.Entry any = d.entries.get(r.nextInt(d.entries.size()));
        Draft.Entry full = d.nonEmpty(r);
        return switch (m) {
            case LENGTH_PLUS -> {
                byte[] image = d.image();
                long n = d.headerLength() + r.nextInt(1, 17);
                yield new Broken(withLength(image, n), 8 + n > image.length ? EnumSet.of(Rule.HEADER_PAST_END)
                        : EnumSet.of(Rule.HEADER_NOT_UTF8, Rule.HEADER_NOT_JSON, Rule.DATA_NOT_COVERED));
            }
            case LENGTH_MINUS -> new Broken(withLength(d.image(), d.headerLength() - r.nextInt(1, d.headerLength() + 1)),
                    EnumSet.of(Rule.HEADER_NOT_UTF8, Rule.HEADER_NOT_JSON, Rule.DATA_NOT_COVERED));
            case LENGTH_HUGE -> new Broken(withLength(d.image(), r.nextBoolean() ? -1 - r.nextLong(Long.MAX_VALUE)
                    : SafetensorsFile.MAX_HEADER_BYTES + 1 + r.nextLong(Long.MAX_VALUE - SafetensorsFile.MAX_HEADER_BYTES)),
                    EnumSet.of(Rule.HEADER_TOO_LARGE));
            case LENGTH_PAST_END -> {
                byte[] image = d.image();
                yield new Broken(withLength(image, r.nextLong(image.length - 8 + 1, SafetensorsFile.MAX_HEADER_BYTES + 1)),
                        EnumSet.of(Rule.HEADER_PAST_END));
            }
            case TRUNCATE -> {
                byte[] image = d.image();
                int keep = r.nextInt(image.length);
                yield new Broken(Arrays.copyOf(image, keep), EnumSet.of(keep < 8 ? Rule.FILE_TOO_SHORT
                        : keep < 8 + d.headerLength() ? Rule.HEADER_PAST_END : Rule.DATA_NOT_COVERED));
            }
            case APPEND -> {
                byte[] extra = new byte[r.nextInt(1, 65)];
                r.nextBytes(extra);
                yield new Broken(Raw.concat(d.image(), extra), EnumSet.of(Rule.DATA_NOT_COVERED));
            }
            case SHIFT_OFFSETS -> {
                long delta = r.nextLong(-full.begin, 33);
                delta = delta == 0 ? 1 : delta;
                full.offsets(full.begin + delta, full.end + delta);
                yield d.broken(Rule.NOT_CONTIGUOUS, Rule.DATA_NOT_COVERED);
            }
            case GAP -> {
                d.insertGap(any.begin, r.nextInt(1, 17));
                yield d.broken(Rule.NOT_CONTIGUOUS);
            }
            case OVERLAP -> {
                d.entries.add(r.nextInt(d.entries.size() + 1), d.new Entry("overlap\u0001", full.dtype, full.shape,
                        full.begin, full.end));
                yield d.broken(Rule.NOT_CONTIGUOUS);
            }
            case SHAPE_CHANGED -> {
                any.field("shape", "[" + (any.count() + 1 + r.nextInt(4)) + "]");
                yield d.broken(Rule.SIZE_MISMATCH);
            }
            case DTYPE_WRONG_SIZE -> {
                List<DType> others = Arrays.stream(DType.values()).filter(t -> t.size() != full.dtype.size()).toList();
                full.field("dtype", "\"" + others.get(r.nextInt(others.size())) + "\"");
                yield d.broken(Rule.SIZE_MISMATCH);
            }
            case DTYPE_UNKNOWN -> {
                any.field("dtype", pick(r, "\"F33\"", "\"f32\"", "\"C64\"", "\"F4\"", "\"\"", "\"float32\"", "7",
                        "null", "[\"F32\"]", "{}"));
                yield d.broken(Rule.BAD_DTYPE);
            }
            case DUPLICATE_TENSOR -> {
                d.entries.add(d.entries.get(r.nextInt(d.entries.size())).copy());
                yield d.broken(Rule.DUPLICATE_KEY);
            }
            case DUPLICATE_FIELD -> {
                any.fields.add(r.nextInt(any.fields.size() + 1), any.fields.get(r.nextInt(any.fields.size())));
                yield d.broken(Rule.DUPLICATE_KEY);
            }
            case DUPLICATE_METADATA -> {
                if (r.nextBoolean()) {
                    d.metadata = "{\"k\":\"1\",\"format\":\"pt\",\"k\":\"2\"}";
                } else {
                    d.metadata = d.metadata == null ? "{}" : d.metadata;
                    d.extraMetadata = "{\"format\":\"pt\"}";
                }
                yield d.broken(Rule.DUPLICATE_KEY);
            }
            case INVALID_UTF8 -> {
                byte[] header = d.headerBytes();
                int at = r.nextInt(header.length + 1);
                byte bad = (byte) new int[] {0xC0, 0xC1, 0xF5, 0xF8, 0xFE, 0xFF}[r.nextInt(6)];
                byte[] broken = Raw.concat(Arrays.copyOf(header, at), new byte[] {bad},
                        Arrays.copyOfRange(header, at, header.length));
                yield new Broken(Raw.image(broken, d.data), EnumSet.of(Rule.HEADER_NOT_UTF8));
            }
            case CONTROL_CHAR -> {
                String text = d.text();
                int at = text.offsetByCodePoints(0, r.nextInt(text.codePointCount(0, text.length()) + 1));
                char c = "\u0000\u0001\u0007\u0008\u000b\u000c\u000e\u001b\u001f".charAt(r.nextInt(9));
                yield d.broken(text.substring(0, at) + c + text.substring(at), Rule.HEADER_NOT_JSON);
            }
            case TRAILING_JSON -> d.broken(d.text() + pick(r, "{}", "x", "[]", "0", ",", "}", "\"\""), Rule.HEADER_NOT_JSON);
            case UNCLOSED -> {
                String text = d.text();
                yield d.broken(text.substring(0, text.length() - 1), Rule.HEADER_NOT_JSON);
            }
            case NOT_OBJECT -> d.broken(pick(r, "[" + d.text() + "]", "\"x\"", "17", "null", "true", "[]"),
                    Rule.HEADER_NOT_OBJECT);
            case BAD_SHAPE -> {
                String bad = pick(r, "-1", "2.0", "1e1", "\"2\"", "null", "-0", "[1]", "true", "9223372036854775808");
                long[] s = any.shape;
                int at = r.nextInt(s.length + 1);
                List<String> dims = new ArrayList<>(Arrays.stream(s).mapToObj(Long::toString).toList());
                dims.add(at, bad);
                any.field("shape", r.nextInt(4) == 0 ? pick(r, "2", "{}", "null", "\"[1]\"")
                        : "[" + String.join(",", dims) + "]");
                yield d.broken(Rule.BAD_SHAPE);
            }
            case BAD_OFFSETS -> {
                long b = any.begin;
                long e = any.end;
                any.field("data_offsets", pick(r, "[" + b + "]", "[" + b + "," + e + "," + e + "]", "[-1," + e + "]",
                        "[" + b + "," + e + ".5]", "\"" + b + "," + e + "\"", "null", "[" + b + ",\"" + e + "\"]", "[]",
                        "[" + b + ",18446744073709551616]"));
                yield d.broken(Rule.BAD_OFFSETS);
            }
            case END_BEFORE_BEGIN -> {
                full.field("data_offsets", "[" + full.end + "," + full.begin + "]");
                yield d.broken(Rule.BAD_OFFSETS);
            }
            case METADATA_VALUE -> {
                d.metadata = "{\"format\":\"pt\",\"k\":" + pick(r, "1", "null", "true", "{}", "[]", "1.5") + "}";
                yield d.broken(Rule.BAD_METADATA);
            }
            case METADATA_NOT_OBJECT -> {
                d.metadata = pick(r, "[]", "\"pt\"", "3", "false", "[{}]");
                yield d.broken(Rule.BAD_METADATA);
            }
            case NUL_IN_NAME -> {
                int at = any.name.offsetByCodePoints(0, r.nextInt(any.name.codePointCount(0, any.name.length()) + 1));
                any.key = json(any.name.substring(0, at) + "\0" + any.name.substring(at));
                yield d.broken(Rule.BAD_NAME);
            }
            case UNPAIRED_SURROGATE -> {
                any.key = any.key.substring(0, any.key.length() - 1) + pick(r, "\\ud800", "\\udfff", "\\udbff") + "\"";
                yield d.broken(Rule.BAD_NAME);
            }
            case MISSING_FIELD -> {
                any.fields.remove(r.nextInt(any.fields.size()));
                yield d.broken(Rule.BAD_ENTRY);
            }
            case ENTRY_NOT_OBJECT -> {
                any.value = pick(r, "[]", "\"F32\"", "1", "null", "true");
                yield d.broken(Rule.BAD_ENTRY);
            }
            case OVERFLOW -> {
                any.field("shape", pick(r, "[4294967296,4294967296]", "[2,4611686018427387904]",
                        "[9223372036854775807,2]", "[1152921504606846976]"));
                yield d.broken(Rule.OVERFLOW);
            }
        };
    }

    private static byte[] withLength(byte[] image, long n) {
        byte[] out = image.clone();
        System.arraycopy(Raw.le64(n), 0, out, 0, 8);
        return out;
    }

    @SafeVarargs
    private static <T> T pick(Random r, T... options) {
        return options[r.nextInt(options.length)];
    }

    static String json(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * An editable valid file: header entries as JSON fragments (in shuffled order, which the reader accepts) and
     * the data section, so a mutation can change exactly one thing.
     */
    static final class Draft {
        final List<Entry> entries = new ArrayList<>();
        String metadata;        // JSON text of the __metadata__ value; null for none
        String extraMetadata;   // a second __metadata__ entry, for the duplicate-key mutation
        byte[] data;

        Draft(Spec spec, Random r) {
            long at = 0;
            for (Tensor t : spec.referenceOrder()) {
                entries.add(new Entry(t.name(), t.dtype(), t.shape(), at, at + t.data().length));
                at += t.data().length;
            }
            Collections.shuffle(entries, r);
            data = Raw.concat(spec.referenceOrder().stream().map(Tensor::data).toArray(byte[][]::new));
            try {
                metadata = spec.metadata() == null ? null : JSON.writeValueAsString(spec.metadata());
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        /** One header entry; {@code value} replaces the whole rendered object when set. */
        final class Entry {
            final String name;
            final DType dtype;
            final long[] shape;
            long begin;
            long end;
            String key;
            String value;
            List<String> fields = new ArrayList<>();

            Entry(String name, DType dtype, long[] shape, long begin, long end) {
                this.name = name;
                this.dtype = dtype;
                this.shape = shape;
                this.key = json(name);
                fields.add("\"dtype\":\"" + dtype + "\"");
                fields.add("\"shape\":" + Arrays.toString(shape).replace(" ", ""));
                offsets(begin, end);
            }

            long count() {
                return NpyArray.elementCount(shape);
            }

            void field(String field, String valueJson) {
                fields.replaceAll(f -> f.startsWith("\"" + field + "\":") ? "\"" + field + "\":" + valueJson : f);
            }

            void offsets(long b, long e) {
                begin = b;
                end = e;
                fields.removeIf(f -> f.startsWith("\"data_offsets\":"));
                fields.add("\"data_offsets\":[" + b + "," + e + "]");
            }

            Entry copy() {
                Entry c = new Entry(name, dtype, shape, begin, end);
                c.key = key;
                c.value = value;
                c.fields = new ArrayList<>(fields);
                return c;
            }

            String render() {
                return key + ":" + (value != null ? value : "{" + String.join(",", fields) + "}");
            }
        }

        Entry nonEmpty(Random r) {
            List<Entry> full = entries.stream().filter(e -> e.end > e.begin).toList();
            return full.get(r.nextInt(full.size()));
        }

        /** Moves every tensor at or after data byte {@code at} up by {@code k} and puts {@code k} bytes there. */
        void insertGap(long at, int k) {
            for (Entry e : entries) {
                if (e.begin >= at) {
                    e.offsets(e.begin + k, e.end + k);
                }
            }
            data = Raw.concat(Arrays.copyOf(data, (int) at), new byte[k], Arrays.copyOfRange(data, (int) at, data.length));
        }

        String text() {
            List<String> parts = new ArrayList<>();
            if (metadata != null) {
                parts.add("\"__metadata__\":" + metadata);
            }
            entries.forEach(e -> parts.add(e.render()));
            if (extraMetadata != null) {
                parts.add("\"__metadata__\":" + extraMetadata);
            }
            return "{" + String.join(",", parts) + "}";
        }

        /** The header, padded with spaces to a multiple of 8 as writers do. */
        byte[] headerBytes() {
            return padded(text());
        }

        int headerLength() {
            return headerBytes().length;
        }

        byte[] image() {
            return Raw.image(headerBytes(), data);
        }

        Broken broken(Rule... rules) {
            return new Broken(image(), EnumSet.copyOf(List.of(rules)));
        }

        Broken broken(String text, Rule rule) {
            return new Broken(Raw.image(padded(text), data), EnumSet.of(rule));
        }

        private static byte[] padded(String text) {
            byte[] raw = text.getBytes(StandardCharsets.UTF_8);
            byte[] out = Arrays.copyOf(raw, (raw.length + 7) & ~7);
            Arrays.fill(out, raw.length, out.length, (byte) ' ');
            return out;
        }
    }
}
