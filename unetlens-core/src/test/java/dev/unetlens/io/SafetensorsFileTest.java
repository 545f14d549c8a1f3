package dev.unetlens.io;

import dev.unetlens.io.SafetensorsException.Rule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * One test per rule of the safetensors reader (see {@link Rule}), each asserting the one-line message, plus the
 * edge cases the reference reader's tests ({@code safetensors/src/tensor.rs}) pin down.
 */
class SafetensorsFileTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;
    private int files;

    // ---- helpers -------------------------------------------------------------------------------------------

    private Path file(byte[] image) {
        return Raw.write(dir.resolve("f" + files++ + ".safetensors"), image);
    }

    private Path file(String header, byte[] data) {
        return file(Raw.image(header, data));
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin
                + "," + end + "]}";
    }

    /** Asserts that opening {@code f} fails with {@code rule} and a one-line message naming the file and rule. */
    private static SafetensorsException rejected(Path f, Rule rule) {
        Throwable t = catchThrowable(() -> SafetensorsFile.open(f).close());
        assertThat(t).as("opening %s", f).isExactlyInstanceOf(SafetensorsException.class);
        SafetensorsException e = (SafetensorsException) t;
        assertThat(e.rule()).as(e.getMessage()).isEqualTo(rule);
        assertThat(e.getMessage())
                .startsWith(f + ": ")
                .endsWith("[rule: " + rule.text() + "]")
                .doesNotContain("\n", "\r", "\0");
        return e;
    }

    private static SafetensorsException rejected(Path f, Rule rule, String tensor) {
        SafetensorsException e = rejected(f, rule);
        assertThat(e.getMessage()).contains(": tensor '" + tensor + "': ");
        return e;
    }

    private static byte[] floats(float... v) {
        byte[] b = new byte[v.length * 4];
        MemorySegment.ofArray(b).copyFrom(MemorySegment.ofArray(v));   // little-endian on the platforms we run on
        assertThat(ByteOrder.nativeOrder()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
        return b;
    }

    // ---- the reference reader's own test vectors --------------------------------------------------------------

    @Test
    void referenceDeserializationVector() {
        Path f = file("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}    ", new byte[16]);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertThat(st.names()).containsExactly("test");
            TensorInfo t = st.info("test").orElseThrow();
            assertThat(t.dtype()).isEqualTo(DType.I32);
            assertThat(t.shape()).containsExactly(2, 2);
            assertThat(st.data("test").toArray(ValueLayout.JAVA_BYTE)).containsExactly(new byte[16]);
            assertThat(st.hasMetadata()).isFalse();
            assertThat(st.metadata()).isEmpty();
        }
    }

    @Test
    void zeroDimScalarIsOneElement() {
        Path f = file("{\"test\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}", new byte[4]);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertThat(st.info("test").orElseThrow().shape()).isEmpty();
            assertThat(st.data("test").byteSize()).isEqualTo(4);
        }
    }

    @Test
    void zeroSizeTensorsAreAllowed() {
        Path f = file("{" + entry("a", "I32", "[2,0]", 0, 0) + "," + entry("b", "F32", "[1]", 0, 4) + ","
                + entry("c", "F64", "[0]", 4, 4) + "}", new byte[4]);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertThat(st.names()).containsExactly("a", "b", "c");
            assertThat(st.data("a").byteSize()).isZero();
            assertThat(st.data("c").byteSize()).isZero();
        }
    }

    @Test
    void headerMayBePaddedWithJsonWhitespaceOnBothSides() {
        try (SafetensorsFile st = SafetensorsFile.open(file("\t\n{}\r ", new byte[0]))) {
            assertThat(st.names()).isEmpty();
        }
    }

    @Test
    void unknownKeysInAnEntryAreIgnoredAsByTheReference() {
        String header = "{\"a\":{\"dtype\":\"U8\",\"extra\":{\"x\":[1,{\"y\":null}]},\"shape\":[1],\"data_offsets\":[0,1]}}";
        try (SafetensorsFile st = SafetensorsFile.open(file(header, new byte[] {7}))) {
            assertThat(st.data("a").get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 7);
        }
    }

    @Test
    void nullMetadataMeansNoneAsInTheReference() {
        try (SafetensorsFile st = SafetensorsFile.open(file("{\"__metadata__\":null}", new byte[0]))) {
            assertThat(st.hasMetadata()).isFalse();
        }
    }

    @Test
    void metadataIsReadInOrder() {
        Path f = file("{\"__metadata__\":{\"format\":\"pt\",\"b\":\"\\u00e9\\n\"}}", new byte[0]);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertThat(st.hasMetadata()).isTrue();
            assertThat(st.metadata()).containsExactly(Map.entry("format", "pt"), Map.entry("b", "é\n"));
        }
    }

    @Test
    void unsortedButContiguousOffsetsAreAcceptedAndListedInOffsetOrder() {
        // the reference sorts entries by (begin, end) before checking contiguity, so header order is free
        String header = "{" + entry("z", "F32", "[2]", 8, 16) + "," + entry("y", "F32", "[0]", 8, 8) + ","
                + entry("x", "F32", "[2]", 0, 8) + "}";
        try (SafetensorsFile st = SafetensorsFile.open(file(header, floats(1, 2, 3, 4)))) {
            assertThat(st.names()).containsExactly("x", "y", "z");
            assertThat(st.data("z").toArray(F32)).containsExactly(3, 4);
            assertThat(st.data("x").toArray(F32)).containsExactly(1, 2);
        }
    }

    @Test
    void tensorsAtUnalignedOffsetsReadCorrectly() {
        // 1-byte tensor first, so the F32 starts at data byte 1; a 13-byte header puts the data at file byte 21
        String header = "{" + entry("u", "U8", "[1]", 0, 1) + "," + entry("f", "F32", "[3]", 1, 13) + ","
                + entry("d", "F64", "[1]", 13, 21) + "}";
        header += " ".repeat(5 - (header.length() % 8 + 8) % 8 + 8);   // an odd header length
        assertThat((8 + header.length()) % 2).isOne();
        byte[] d = new byte[8];
        MemorySegment.ofArray(d).set(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, -2.5);
        byte[] data = Raw.concat(new byte[] {9}, floats(1.5f, -2, 3e-5f), d);
        try (SafetensorsFile st = SafetensorsFile.open(file(header, data))) {
            MemorySegment f = st.data("f");
            assertThat(f.address() % 4).isNotZero();
            assertThat(f.toArray(F32)).containsExactly(1.5f, -2, 3e-5f);
            assertThat(st.data("d").get(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0))
                    .isEqualTo(-2.5);
            assertThat(st.data("u").get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 9);
            assertThat(f.isReadOnly()).isTrue();
        }
    }

    @Test
    void readsEveryWhitelistedDtype() {
        StringBuilder header = new StringBuilder("{");
        long at = 0;
        for (DType t : DType.values()) {
            header.append(header.length() > 1 ? "," : "").append(entry(t.name(), t.name(), "[3]", at, at + 3L * t.size()));
            at += 3L * t.size();
        }
        try (SafetensorsFile st = SafetensorsFile.open(file(header + "}", new byte[(int) at]))) {
            assertThat(st.tensors()).extracting(TensorInfo::dtype).containsExactlyInAnyOrder(DType.values());
        }
    }

    @Test
    void leftToRightOverflowCheckMatchesTheReference() {
        // checked_mul folds left to right: a leading 0 keeps the product 0, a trailing 0 comes too late
        long big = 1L << 40;
        try (SafetensorsFile st = SafetensorsFile.open(file("{" + entry("a", "U8", "[0," + big + "," + big + "]", 0, 0)
                + "}", new byte[0]))) {
            assertThat(st.info("a").orElseThrow().elementCount()).isZero();
        }
        rejected(file("{" + entry("a", "U8", "[" + big + "," + big + ",0]", 0, 0) + "}", new byte[0]),
                Rule.OVERFLOW, "a");
    }

    // ---- one test per rule ----------------------------------------------------------------------------------------

    @Test
    void emptyFile() {
        assertThat(rejected(file(new byte[0]), Rule.FILE_TOO_SHORT).getMessage()).contains("has only 0 bytes").contains("truncated");
    }

    @Test
    void fileShorterThanTheHeaderLength() {
        rejected(file(new byte[] {2, 0, 0, 0, 0, 0, 0}), Rule.FILE_TOO_SHORT);
    }

    @Test
    void headerLength2Pow63() {
        byte[] image = Raw.concat(Raw.le64(Long.MIN_VALUE), "{}".getBytes(StandardCharsets.UTF_8));
        assertThat(rejected(file(image), Rule.HEADER_TOO_LARGE).getMessage()).contains("9223372036854775808");
    }

    @Test
    void headerLength2Pow64Minus1() {
        byte[] image = Raw.concat(Raw.le64(-1), "{}".getBytes(StandardCharsets.UTF_8));
        assertThat(rejected(file(image), Rule.HEADER_TOO_LARGE).getMessage()).contains("18446744073709551615");
    }

    @Test
    void headerLengthJustOverTheLimit() {
        rejected(file(Raw.concat(Raw.le64(SafetensorsFile.MAX_HEADER_BYTES + 1), new byte[64])), Rule.HEADER_TOO_LARGE);
    }

    @Test
    void headerLengthAtTheLimitButPastTheEnd() {
        // the limit itself is allowed; the file is just too short for it (and nothing is allocated for it)
        Path f = file(Raw.concat(Raw.le64(SafetensorsFile.MAX_HEADER_BYTES), new byte[64]));
        assertThat(rejected(f, Rule.HEADER_PAST_END).getMessage()).contains("72-byte file");
    }

    @Test
    void headerLengthOneByteTooLong() {
        // the reference's "invalid header length" vector: N = 60 with nothing after the length
        rejected(file(Raw.le64(60)), Rule.HEADER_PAST_END);
        rejected(file(Raw.concat(Raw.le64(3), "{}".getBytes(StandardCharsets.UTF_8))), Rule.HEADER_PAST_END);
    }

    @Test
    void invalidUtf8InTheHeader() {
        byte[] header = "{\"a\u00e9\":1}".getBytes(StandardCharsets.UTF_8);   // é is C3 A9 at bytes 3, 4
        header[4] = (byte) 0xff;                                                // C3 FF: byte 3 starts a bad sequence
        assertThat(rejected(file(Raw.image(header, new byte[0])), Rule.HEADER_NOT_UTF8).getMessage())
                .contains("header byte 3", "file offset 11");
    }

    @ParameterizedTest
    @ValueSource(strings = {"C0AF", "EDA080", "F4908080", "E282", "80"})
    void overlongSurrogateOutOfRangeAndTruncatedUtf8AreInvalid(String hex) {
        byte[] bad = HexFormat.of().parseHex(hex);
        byte[] header = Raw.concat("{\"".getBytes(StandardCharsets.UTF_8), bad, "\":1}".getBytes(StandardCharsets.UTF_8));
        rejected(file(Raw.image(header, new byte[0])), Rule.HEADER_NOT_UTF8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{", "", "   ", "{} {}", "{}x", "{}\0\0", "\uFEFF{}", "{'a':1}", "{\"a\":01}",
        "{\"a\":NaN}", "{\"a\":{\"dtype\":\"F32\",}}", "{\"a\":\"\t\"}"})
    void headerThatIsNotOneJsonValue(String header) {
        SafetensorsException e = rejected(file(header, new byte[0]), Rule.HEADER_NOT_JSON);
        assertThat(e.getMessage()).containsAnyOf("not valid JSON", "empty", "after the header object");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "\"{}\"", "1", "null", "true"})
    void headerThatIsNotAnObject(String header) {
        rejected(file(header, new byte[0]), Rule.HEADER_NOT_OBJECT);
    }

    @Test
    void duplicateTensorKey() {
        String header = "{" + entry("w", "U8", "[1]", 0, 1) + "," + entry("w", "U8", "[1]", 0, 1) + "}";
        rejected(file(header, new byte[1]), Rule.DUPLICATE_KEY, "w");
    }

    @Test
    void duplicateKeyInsideAnEntry() {
        String header = "{\"w\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        assertThat(rejected(file(header, new byte[1]), Rule.DUPLICATE_KEY, "w").getMessage()).contains("'dtype'");
    }

    @Test
    void duplicateKeyInsideAnIgnoredValue() {
        String header = "{\"w\":{\"x\":{\"k\":1,\"k\":2},\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        rejected(file(header, new byte[1]), Rule.DUPLICATE_KEY, "w");
    }

    @Test
    void duplicateMetadataKeyAndDuplicateMetadataEntry() {
        rejected(file("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", new byte[0]), Rule.DUPLICATE_KEY);
        rejected(file("{\"__metadata__\":{},\"__metadata__\":{}}", new byte[0]), Rule.DUPLICATE_KEY, "__metadata__");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "null", "true", "{}", "[\"x\"]"})
    void metadataWithANonStringValue(String value) {
        SafetensorsException e = rejected(file("{\"__metadata__\":{\"format\":\"pt\",\"k\":" + value + "}}",
                new byte[0]), Rule.BAD_METADATA);
        assertThat(e.getMessage()).contains("value of 'k'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "\"pt\"", "3", "false"})
    void metadataThatIsNotAnObject(String value) {
        rejected(file("{\"__metadata__\":" + value + "}", new byte[0]), Rule.BAD_METADATA);
    }

    @Test
    void metadataWithAnUnpairedSurrogate() {
        rejected(file("{\"__metadata__\":{\"k\":\"\\udc00\"}}", new byte[0]), Rule.BAD_METADATA);
    }

    @Test
    void nulInATensorName() {
        SafetensorsException e = rejected(file("{" + entry("a\\u0000b", "U8", "[1]", 0, 1) + "}", new byte[1]),
                Rule.BAD_NAME, "a\\0b");
        assertThat(e.getMessage()).contains("NUL character at index 1");
    }

    @Test
    void unpairedSurrogateInATensorName() {
        SafetensorsException e = rejected(file("{" + entry("a\\ud800", "U8", "[1]", 0, 1) + "}", new byte[1]),
                Rule.BAD_NAME);
        assertThat(e.getMessage()).contains("tensor 'a\\uD800'");
    }

    @Test
    void controlCharactersInNamesAreEscapedInTheMessage() {
        // a name may legally hold a newline; the message must still be one line
        Path f = file("{" + entry("line\\nbreak", "F32", "[1]", 0, 3) + "}", new byte[3]);
        rejected(f, Rule.SIZE_MISMATCH, "line\\nbreak");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "\"F32\"", "1", "null"})
    void entryThatIsNotAnObject(String value) {
        rejected(file("{\"w\":" + value + "}", new byte[0]), Rule.BAD_ENTRY, "w");
    }

    @ParameterizedTest
    @ValueSource(strings = {"dtype", "shape", "data_offsets"})
    void entryWithAMissingField(String missing) {
        String header = "{\"w\":{" + String.join(",", Stream.of(
                "\"dtype\":\"U8\"", "\"shape\":[1]", "\"data_offsets\":[0,1]")
                .filter(s -> !s.startsWith("\"" + missing + "\"")).toList()) + "}}";
        assertThat(rejected(file(header, new byte[1]), Rule.BAD_ENTRY, "w").getMessage()).contains("no " + missing);
    }

    @ParameterizedTest
    @ValueSource(strings = {"F33", "f32", "float32", "", "C64", "F4", "F8_E8M0"})
    void unknownDtype(String dtype) {
        SafetensorsException e = rejected(file("{" + entry("w", dtype, "[1]", 0, 4) + "}", new byte[4]),
                Rule.BAD_DTYPE, "w");
        assertThat(e.getMessage()).contains("'" + dtype + "'");
        if (dtype.equals("C64") || dtype.startsWith("F4") || dtype.startsWith("F8")) {
            assertThat(e.getMessage()).contains("unetlens does not read");
        }
    }

    @Test
    void dtypeThatIsNotAString() {
        rejected(file("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), Rule.BAD_DTYPE, "w");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[-1]", "[2.0]", "[1e1]", "[\"2\"]", "[null]", "[-0]", "[[1]]", "[true]",
        "[9223372036854775808]", "[18446744073709551615]", "2", "{}", "null"})
    void shapeEntriesThatAreNotNonNegativeIntegers(String shape) {
        rejected(file("{\"w\":{\"dtype\":\"U8\",\"shape\":" + shape + ",\"data_offsets\":[0,1]}}", new byte[1]),
                Rule.BAD_SHAPE, "w");
    }

    @Test
    void shapeRankIsBounded() {
        String zeros = "0,".repeat(SafetensorsHeader.MAX_RANK);
        SafetensorsFile.open(file("{" + entry("w", "U8", "[" + zeros.substring(0, zeros.length() - 1) + "]", 0, 0)
                + "}", new byte[0])).close();
        rejected(file("{" + entry("w", "U8", "[" + zeros + "0]", 0, 0) + "}", new byte[0]), Rule.BAD_SHAPE, "w");
    }

    @Test
    void longDataOffsetsStopAtTheThirdEntry() {
        String offsets = "[0,1" + ",1".repeat(1_000_000) + "]";
        SafetensorsException e = rejected(file("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":" + offsets
                + "}}", new byte[1]), Rule.BAD_OFFSETS, "w");
        assertThat(e.getMessage()).contains("more than 2 entries");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[0]", "[0,1,1]", "[]", "[-1,0]", "[0,1.0]", "[0,\"1\"]", "\"0,1\"", "null",
        "[0,9223372036854775808]"})
    void dataOffsetsThatAreNotTwoNonNegativeIntegers(String offsets) {
        rejected(file("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":" + offsets + "}}", new byte[1]),
                Rule.BAD_OFFSETS, "w");
    }

    @Test
    void dataOffsetsEndBeforeBegin() {
        SafetensorsException e = rejected(file("{" + entry("w", "U8", "[0]", 4, 0) + "}", new byte[4]),
                Rule.BAD_OFFSETS, "w");
        assertThat(e.getMessage()).contains("end 0 is before begin 4");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[4294967296,4294967296]", "[2,4611686018427387904]", "[1152921504606846976]"})
    void shapeProductsThatOverflow64Bits(String shape) {
        // the last one: 2^60 F32 elements fit in 64 bits, 2^60 * 32 bits do not, as in the reference
        rejected(file("{" + entry("w", "F32", shape, 0, 16) + "}", new byte[16]), Rule.OVERFLOW, "w");
    }

    @Test
    void shapeTimesDtypeSizeDiffersFromTheByteRange() {
        // the reference's "invalid info" vector
        SafetensorsException e = rejected(file("{" + entry("test", "I32", "[2,2]", 0, 4) + "}", new byte[4]),
                Rule.SIZE_MISMATCH, "test");
        assertThat(e.getMessage()).contains("hold 4 bytes but shape [2, 2] of I32 needs 16");
    }

    @Test
    void gapBetweenTensors() {
        String header = "{" + entry("a", "U8", "[2]", 0, 2) + "," + entry("b", "U8", "[2]", 3, 5) + "}";
        SafetensorsException e = rejected(file(header, new byte[5]), Rule.NOT_CONTIGUOUS, "b");
        assertThat(e.getMessage()).contains("leave a gap after tensor 'a', which ends at 2");
    }

    @Test
    void firstTensorNotAtZero() {
        SafetensorsException e = rejected(file("{" + entry("a", "U8", "[2]", 1, 3) + "}", new byte[3]),
                Rule.NOT_CONTIGUOUS, "a");
        assertThat(e.getMessage()).contains("the start of the data section");
    }

    @Test
    void overlappingTensors() {
        String header = "{" + entry("a", "U8", "[4]", 0, 4) + "," + entry("b", "U8", "[2]", 2, 4) + "}";
        assertThat(rejected(file(header, new byte[4]), Rule.NOT_CONTIGUOUS, "b").getMessage()).contains("overlap");
    }

    @Test
    void twoTensorsWithTheSameOffsets() {
        // the reference's "JSON attack": ten tensors all at [0, 16]
        StringBuilder header = new StringBuilder("{");
        for (int i = 0; i < 10; i++) {
            header.append(i > 0 ? "," : "").append(entry("weight_" + i, "F32", "[2,2]", 0, 16));
        }
        rejected(file(header + "}", new byte[16]), Rule.NOT_CONTIGUOUS);
    }

    @Test
    void trailingBytesAfterTheData() {
        // the reference's polyglot vector: valid file plus extra bytes
        String header = "{" + entry("test", "I32", "[2,2]", 0, 16) + "}";
        byte[] data = Raw.concat(new byte[16], "extra_bogus_data_for_polyglot_file".getBytes(StandardCharsets.UTF_8));
        assertThat(rejected(file(header, data), Rule.DATA_NOT_COVERED).getMessage()).contains("34 trailing bytes");
    }

    @Test
    void dataShorterThanTheHeaderClaims() {
        String header = "{" + entry("test", "I32", "[2,2]", 0, 16) + "}";
        assertThat(rejected(file(header, new byte[14]), Rule.DATA_NOT_COVERED).getMessage()).contains("truncated");
    }

    @Test
    void dataButNoTensors() {
        rejected(file("{}", new byte[8]), Rule.DATA_NOT_COVERED);
    }

    @Test
    void missingFileAndDirectory() throws Exception {
        SafetensorsException e = rejected(dir.resolve("absent.safetensors"), Rule.IO);
        assertThat(e.getMessage()).contains("no such file");
        rejected(Files.createDirectory(dir.resolve("folder.safetensors")), Rule.IO);
    }

    @Test
    void unknownTensorAndClosedFile() {
        Path f = file("{" + entry("a", "U8", "[1]", 0, 1) + "}", new byte[1]);
        SafetensorsFile st = SafetensorsFile.open(f);
        SafetensorsException unknown = (SafetensorsException) catchThrowable(() -> st.data("b"));
        assertThat(unknown.rule()).isEqualTo(Rule.NO_SUCH_TENSOR);
        assertThat(unknown.getMessage()).startsWith(f + ": tensor 'b': ");
        st.close();
        st.close();
        SafetensorsException closed = (SafetensorsException) catchThrowable(() -> st.data("a"));
        assertThat(closed.rule()).isEqualTo(Rule.CLOSED);
    }

    // ---- limits of the JSON parser must not be stricter than the reference's ------------------------------

    @Test
    void longStringsAndNamesBeyondJacksonDefaultsAreAccepted() {
        String value = "v".repeat(21_000_000);   // Jackson's default string limit is 20 M chars
        String name = "n".repeat(60_000);        // and its default name limit 50 000
        Path f = file("{\"__metadata__\":{\"big\":\"" + value + "\"}," + entry(name, "U8", "[1]", 0, 1) + "}", new byte[1]);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertThat(st.metadata().get("big")).hasSize(value.length());
            assertThat(st.names()).containsExactly(name);
        }
    }

    @Test
    void nestingDeeperThanSerdeJsonAllowsIsRejected() {
        String shallow = "[".repeat(50) + "]".repeat(50);
        String deep = "[".repeat(200) + "]".repeat(200);
        String ok = "{\"w\":{\"x\":" + shallow + ",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        SafetensorsFile.open(file(ok, new byte[1])).close();
        rejected(file("{\"w\":{\"x\":" + deep + ",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
                new byte[1]), Rule.HEADER_NOT_JSON);
    }

    /**
     * serde_json's recursion budget runs out on the 128th nested level: 127 levels (the header object, its entry and
     * 125 arrays) are read, 128 are refused, as the reference refuses them.
     */
    @Test
    void nestingIsLimitedExactlyWhereTheReferenceLimitsIt() {
        String at127 = "{\"w\":{\"x\":" + "[".repeat(125) + "]".repeat(125) + ",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        SafetensorsFile.open(file(at127, new byte[1])).close();
        String at128 = "{\"w\":{\"x\":" + "[".repeat(126) + "]".repeat(126) + ",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        rejected(file(at128, new byte[1]), Rule.HEADER_NOT_JSON);
    }

    /** serde_json refuses a \\u escape that leaves an unpaired surrogate even in a field it ignores. */
    @Test
    void unpairedSurrogateEscapesInIgnoredFieldsAreRefused() {
        for (String ignored : new String[] {"\"x\":\"\\ud800\"", "\"x\":\"a\\udc00\"", "\"x\":{\"y\":[\"\\ud800\"]}",
            "\"\\ud800\":1", "\"x\":{\"\\udfff\":1}"}) {
            Path f = file("{\"w\":{" + ignored + ",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1]);
            assertThat(rejected(f, Rule.HEADER_NOT_JSON, "w").getMessage()).as(ignored).contains("unpaired surrogate");
        }
        Path paired = file("{\"w\":{\"x\":\"\\ud83d\\ude00\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
                new byte[1]);
        SafetensorsFile.open(paired).close();
    }

    /** Names from the file are shortened and escaped in messages: a 10 MB name or a line break in one gives one short line. */
    @Test
    void namesInMessagesAreShortAndOnOneLine() {
        String huge = "n".repeat(10 << 20);
        SafetensorsException e = rejected(file("{" + entry(huge, "U8", "[2]", 0, 1) + "}", new byte[1]),
                Rule.SIZE_MISMATCH);
        assertThat(e.getMessage()).hasSizeLessThan(400).contains("(10485760 chars)");
        SafetensorsException nl = rejected(file("{" + entry("a\\nb", "U8", "[2]", 0, 1) + "}", new byte[1]),
                Rule.SIZE_MISMATCH);
        assertThat(nl.getMessage()).contains("tensor 'a\\nb'");
    }

    /**
     * Only regular files are opened: a FIFO would block the open forever, a device would feed it; each is refused in
     * one line, before opening.
     */
    @Test
    void specialFilesAreRefusedBeforeOpening() throws Exception {
        Path fifo = SpecialFiles.fifo(dir.resolve("pipe.safetensors"));
        try {
            assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> assertThat(rejected(fifo, Rule.IO)
                    .getMessage()).contains("is a FIFO, device or socket, not a regular file"));
        } finally {
            SpecialFiles.unblock(fifo);
        }
        Path zero = java.nio.file.Files.createSymbolicLink(dir.resolve("zero.safetensors"), Path.of("/dev/zero"));
        assertThat(rejected(zero, Rule.IO).getMessage()).contains("not a regular file");
        Path sub = java.nio.file.Files.createDirectory(dir.resolve("d.safetensors"));
        assertThat(rejected(sub, Rule.IO).getMessage()).contains("is a directory");
    }

    @Test
    void validationReadsOnlyTheHeader() throws Exception {
        // 16 MiB of data: opening must not read it (the mapping is lazy); /proc/self/io counts read() bytes
        int size = 16 << 20;
        Path f = file("{" + entry("big", "U8", "[" + size + "]", 0, size) + "}", new byte[size]);
        SafetensorsFile.open(f).close();   // warm up class loading
        long before = ProcIo.readBytes();
        SafetensorsFile.open(f).close();
        assertThat(ProcIo.readBytes() - before).isLessThan(size / 4);
    }
}
