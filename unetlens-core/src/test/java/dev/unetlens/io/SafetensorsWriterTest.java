package dev.unetlens.io;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.io.SafetensorsException.Rule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The writer against the reference serializer's test vectors, its layout rules, streaming and atomicity. */
class SafetensorsWriterTest {
    private static final float[] SIX = {0, 1, 2, 3, 4, 5};

    @TempDir
    Path dir;

    private static byte[] bytes(SafetensorsWriter w) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        w.writeTo(out);
        return out.toByteArray();
    }

    private static String header(byte[] file) {
        int n = (int) ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        return new String(file, 8, n, StandardCharsets.UTF_8);
    }

    // ---- byte-exact against safetensors/src/tensor.rs tests ---------------------------------------------------

    @Test
    void referenceSerializationVector() throws IOException {
        byte[] expected = HexFormat.of().parseHex("40000000000000007b226174746e2e30223a7b226474797065223a2246333222"
                + "2c227368617065223a5b312c322c335d2c22646174615f6f666673657473223a5b302c32345d7d7d000000000000803f00"
                + "00004000004040000080400000a040");
        assertThat(bytes(new SafetensorsWriter().addFloats("attn.0", new long[] {1, 2, 3}, SIX))).isEqualTo(expected);
    }

    @Test
    void referenceForcedAlignmentVector() throws IOException {
        byte[] expected = HexFormat.of().parseHex("48000000000000007b226174746e30223a7b226474797065223a22463332222c"
                + "227368617065223a5b312c312c322c335d2c22646174615f6f666673657473223a5b302c32345d7d7d2020202020202000"
                + "0000000000803f0000004000004040000080400000a040");
        assertThat(bytes(new SafetensorsWriter().addFloats("attn0", new long[] {1, 1, 2, 3}, SIX))).isEqualTo(expected);
    }

    @Test
    void referenceEmptyVectors() throws IOException {
        assertThat(bytes(new SafetensorsWriter())).isEqualTo(HexFormat.of().parseHex("08000000000000007b7d202020202020"));
        assertThat(bytes(new SafetensorsWriter().metadata(Map.of("framework", "pt")))).isEqualTo(HexFormat.of().parseHex(
                "28000000000000007b225f5f6d657461646174615f5f223a7b226672616d65776f726b223a227074227d7d2020202020"));
    }

    // ---- layout and JSON ------------------------------------------------------------------------------------------

    @Test
    void tensorsAreLaidOutByDtypeDescendingThenUtf8Name() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter()
                .add("b", DType.U8, new long[] {1}, ByteBuffer.wrap(new byte[] {1}))
                .add("a", DType.BOOL, new long[] {1}, ByteBuffer.wrap(new byte[] {1}))
                .add("\uFFFD", DType.F16, new long[] {1}, ByteBuffer.wrap(new byte[2]))
                .add("😀", DType.F16, new long[] {1}, ByteBuffer.wrap(new byte[2]))   // UTF-16 sorts it first
                .add("z", DType.I64, new long[] {1}, ByteBuffer.wrap(new byte[8]))
                .add("y", DType.BF16, new long[] {1}, ByteBuffer.wrap(new byte[2]))
                .add("x", DType.F64, new long[] {1}, ByteBuffer.wrap(new byte[8]));
        Path f = Raw.write(dir.resolve("order.safetensors"), bytes(w));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertThat(st.names()).containsExactly("z", "x", "y", "\uFFFD", "😀", "b", "a");
        }
        assertThat(header(Raw.read(f))).startsWith("{\"z\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"x\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}");
    }

    @Test
    void namesAreEscapedAsSerdeJsonEscapesThem() throws IOException {
        String name = "q\"b\\s\n\t\b\f\r\u0001\u001f\u007f/é😀\u2028";
        byte[] file = bytes(new SafetensorsWriter().metadata(Map.of("k\u0000", "v\u0002"))
                .add(name, DType.U8, new long[] {0}, ByteBuffer.allocate(0)));
        String header = header(file);
        assertThat(header).isEqualTo("{\"__metadata__\":{\"k\\u0000\":\"v\\u0002\"},"
                + "\"q\\\"b\\\\s\\n\\t\\b\\f\\r\\u0001\\u001f\u007f/é😀\u2028\":"
                + "{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}" + " ".repeat(7));
        assertThat(header.getBytes(StandardCharsets.UTF_8).length % 8).isZero();
        try (SafetensorsFile st = SafetensorsFile.open(Raw.write(dir.resolve("esc.safetensors"), file))) {
            assertThat(st.names()).containsExactly(name);
            assertThat(st.metadata()).containsExactly(Map.entry("k\u0000", "v\u0002"));
        }
    }

    @Test
    void emptyMetadataIsWrittenAndNoMetadataIsOmitted() throws IOException {
        assertThat(header(bytes(new SafetensorsWriter().metadata(Map.of())))).isEqualTo("{\"__metadata__\":{}}     ");
        assertThat(header(bytes(new SafetensorsWriter()))).isEqualTo("{}      ");
    }

    @Test
    void everySourceKindStreamsTheSameBytes() throws IOException {
        byte[] data = new byte[(3 << 20) + 5];   // more than one 1 MiB chunk
        new java.util.Random(7).nextBytes(data);
        ByteBuffer direct = ByteBuffer.allocateDirect(data.length + 3).position(3);
        direct.put(data).position(3);
        ByteBuffer heap = ByteBuffer.wrap(Raw.concat(new byte[2], data)).position(2);
        long[] shape = {data.length};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment native_ = arena.allocate(data.length).copyFrom(MemorySegment.ofArray(data));
            SafetensorsWriter w = new SafetensorsWriter()
                    .add("segment", DType.U8, shape, native_)
                    .add("direct", DType.U8, shape, direct)
                    .add("heap", DType.U8, shape, heap)
                    .add("callback", DType.U8, shape, out -> out.write(data));
            Path f = dir.resolve("sources.safetensors");
            w.write(f);
            assertThat(Files.size(f)).isEqualTo(w.fileSize());
            try (SafetensorsFile st = SafetensorsFile.open(f)) {
                for (String n : List.of("segment", "direct", "heap", "callback")) {
                    assertThat(st.data(n).toArray(ValueLayout.JAVA_BYTE)).as(n).isEqualTo(data);
                }
            }
        }
        assertThat(direct.position()).as("the caller's buffer is not moved").isEqualTo(3);
    }

    @Test
    void floatConvenienceWritesLittleEndianF32() throws IOException {
        float[] v = {1.5f, -0f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NEGATIVE_INFINITY};
        Path f = Raw.write(dir.resolve("f.safetensors"), bytes(new SafetensorsWriter().addFloats("v", new long[] {5}, v)));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertThat(st.info("v").orElseThrow().dtype()).isEqualTo(DType.F32);
            assertThat(st.data("v").toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN)))
                    .containsExactly(v);
        }
    }

    @Test
    void moreThan2GiBStreamsThroughWithoutBuffering() throws IOException {
        long big = (1L << 31) + 4099;   // a tensor past 2 GiB, written from a 64 KiB buffer
        byte[] block = new byte[1 << 16];
        SafetensorsWriter w = new SafetensorsWriter()
                .add("big", DType.U8, new long[] {big}, out -> {
                    for (long left = big; left > 0; left -= block.length) {
                        out.write(block, 0, (int) Math.min(block.length, left));
                    }
                })
                .addFloats("after", new long[] {2}, new float[] {1, 2});
        HeadAndCount sink = new HeadAndCount(4096);
        w.writeTo(sink);
        String header = header(sink.head.toByteArray());
        assertThat(sink.count).isEqualTo(w.fileSize()).isEqualTo(8 + header.length() + big + 8);
        assertThat(header).contains("\"big\":{\"dtype\":\"U8\",\"shape\":[2147487747],\"data_offsets\":[8,2147487755]}");
    }

    @Test
    void rewritingTheMappedSourceFileInPlaceIsSafe() throws IOException {
        Path f = dir.resolve("in-place.safetensors");
        new SafetensorsWriter().addFloats("w", new long[] {3}, new float[] {1, 2, 3}).write(f);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            new SafetensorsWriter().metadata(Map.of("format", "pt")).addAll(st).write(f);
        }
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertThat(st.metadata()).containsEntry("format", "pt");
            assertThat(st.data("w").toArray(ValueLayout.JAVA_FLOAT_UNALIGNED)).containsExactly(1, 2, 3);
        }
    }

    // ---- errors -----------------------------------------------------------------------------------------------------

    @Test
    void badTensorsAreRefusedWhenAdded() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().add("a", DType.U8, new long[] {1}, ByteBuffer.allocate(1));
        ByteBuffer one = ByteBuffer.allocate(1);
        assertThatThrownBy(() -> w.add("a", DType.U8, new long[] {1}, one)).hasMessageContaining("added twice");
        assertThatThrownBy(() -> w.add("n\0l", DType.U8, new long[] {1}, one)).hasMessageContaining("NUL");
        assertThatThrownBy(() -> w.add("__metadata__", DType.U8, new long[] {1}, one)).hasMessageContaining("metadata");
        assertThatThrownBy(() -> w.add("s\uD800", DType.U8, new long[] {1}, one)).hasMessageContaining("surrogate");
        assertThatThrownBy(() -> w.add("neg", DType.U8, new long[] {-1}, one)).hasMessageContaining("negative");
        assertThatThrownBy(() -> w.add("size", DType.F32, new long[] {1}, one)).hasMessageContaining("needs 4 bytes");
        assertThatThrownBy(() -> w.add("huge", DType.F64, new long[] {1L << 62}, out -> { }))
                .hasMessageContaining("overflows");
        assertThatThrownBy(() -> w.metadata(Map.of("k", "\uDC00"))).hasMessageContaining("surrogate");
        assertThat(w.fileSize()).as("the refused tensors left no trace").isEqualTo(bytes(w).length);
    }

    @Test
    void headerOverTheLimitIsRefusedAndNothingIsWritten() {
        Path f = dir.resolve("big-header.safetensors");
        SafetensorsWriter w = new SafetensorsWriter().metadata(Map.of("m", "a".repeat(100_000_000)));
        assertThatThrownBy(() -> w.write(f)).isInstanceOfSatisfying(SafetensorsException.class,
                e -> assertThat(e.rule()).isEqualTo(Rule.HEADER_TOO_LARGE));
        assertThat(dir).isEmptyDirectory();
    }

    @Test
    void aCallbackWritingTheWrongCountLeavesTheOldFile() throws IOException {
        Path f = dir.resolve("model.safetensors");
        new SafetensorsWriter().addFloats("w", new long[] {1}, new float[] {7}).write(f);
        byte[] before = Files.readAllBytes(f);
        SafetensorsWriter tooFew = new SafetensorsWriter()
                .add("w", DType.F32, new long[] {2}, out -> out.write(new byte[4]));
        SafetensorsWriter tooMany = new SafetensorsWriter()
                .add("w", DType.F32, new long[] {1}, out -> out.write(new byte[5]));
        SafetensorsWriter failing = new SafetensorsWriter().add("w", DType.F32, new long[] {1}, out -> {
            throw new IOException("disk on fire");
        });
        assertThatThrownBy(() -> tooFew.write(f)).hasMessageContaining("wrote 4 bytes instead of 8");
        assertThatThrownBy(() -> tooMany.write(f)).hasMessageContaining("more than its 4 bytes");
        assertThatThrownBy(() -> failing.write(f)).isInstanceOf(UnetlensException.class)
                .hasMessageContaining("disk on fire");
        assertThat(Files.readAllBytes(f)).isEqualTo(before);
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(f);
        }
    }

    // ---- an independent reader ----------------------------------------------------------------------------------

    /**
     * Files the writer makes (random content, and a few fixed ones) pass a Python re-implementation of the reference
     * reader, are byte for byte the reference serializer's layout, and numpy reads the same tensor bytes as Java.
     * A corrupt file must fail the Python checks too, or the checker proves nothing.
     */
    @Test
    void independentPythonReaderAcceptsWhatWeWrite() throws Exception {
        List<Path> files = new ArrayList<>();
        for (long seed = 0; seed < 150; seed++) {
            RandomTensors gen = new RandomTensors(seed);
            SafetensorsWriter w = SafetensorsGeneratedTest.writer(gen.spec(false), gen.random());
            files.add(Raw.write(dir.resolve("r" + seed + ".safetensors"), bytes(w)));
        }
        Path corrupt = Raw.write(dir.resolve("corrupt.safetensors"), Raw.image("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                + "\"data_offsets\":[0,4]}}", new byte[4]));
        files.add(corrupt);
        for (Path f : files.subList(0, files.size() - 1)) {   // the Java checks run either way
            SafetensorsFile.open(f).close();
        }
        Optional<List<SafetensorsPython.Verdict>> verdicts = SafetensorsPython.check(Python.fromSystem(), dir, files);
        if (verdicts.isEmpty()) {
            return;
        }
        assertThat(verdicts.get()).hasSize(files.size());
        for (SafetensorsPython.Verdict v : verdicts.get()) {
            if (v.file().equals(corrupt.toString())) {
                assertThat(v.ok()).as("the checker must reject a corrupt file").isFalse();
                assertThat(v.error()).contains("size mismatch");
                continue;
            }
            assertThat(v.ok()).as("%s: %s", v.file(), v.error()).isTrue();
            assertThat(v.canonical()).as("%s is laid out as the reference serializer would", v.file()).isTrue();
            try (SafetensorsFile st = SafetensorsFile.open(Path.of(v.file()))) {
                Map<String, JsonNode> py = SafetensorsPython.tensors(v);
                assertThat(py.keySet()).containsExactlyInAnyOrderElementsOf(st.names());
                for (TensorInfo t : st.tensors()) {
                    JsonNode p = py.get(t.name());
                    assertThat(p.get(0).asText()).isEqualTo(t.dtype().name());
                    assertThat(p.get(1).toString()).isEqualTo(Arrays.toString(t.shape()).replace(" ", ""));
                    assertThat(p.get(2).asText()).isEqualTo(sha256(st.data(t.name())));
                }
            }
        }
        System.out.println("python cross-check: " + (verdicts.get().size() - 1) + " files accepted"
                + (verdicts.get().getFirst().numpy() ? " and read by numpy" : " (header checks only, no numpy)"));
    }

    @Test
    void withoutPythonOnlyTheJavaChecksRun() throws Exception {
        Python missing = new Python(dir.resolve("no-python").toString());
        Optional<List<SafetensorsPython.Verdict>> v = SafetensorsPython.check(missing, dir, List.of());
        assertThat(v).isEmpty();
    }

    static String sha256(MemorySegment data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data.toArray(ValueLayout.JAVA_BYTE)));
    }

    /** Keeps the first bytes written and counts the rest. */
    private static final class HeadAndCount extends OutputStream {
        final ByteArrayOutputStream head = new ByteArrayOutputStream();
        private final int keep;
        long count;

        HeadAndCount(int keep) {
            this.keep = keep;
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            int take = (int) Math.max(0, Math.min(len, keep - count));
            head.write(b, off, take);
            count += len;
        }
    }
}
