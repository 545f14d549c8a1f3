package dev.unetlens.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A safetensors file, validated as strictly as the reference reader and memory-mapped with
 * {@code java.lang.foreign} (files over 2 GiB, tensors at any byte offset).
 *
 * <p>Layout: 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON, then the data section; each
 * tensor's {@code data_offsets} are relative to the start of the data section.
 */
public final class SafetensorsFile implements TensorSource {
    /** The reference reader's limit on the header length. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path path;
    private final Arena arena;
    private final MemorySegment dataSection;
    private final Map<String, TensorInfo> tensors;   // in header order
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment dataSection,
                            Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.dataSection = dataSection;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens, validates and maps {@code path}; throws {@link SafetensorsException} naming the broken rule. */
    public static SafetensorsFile open(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw fail(path, "file is " + size + " bytes, shorter than the 8-byte header length;"
                        + " the file is truncated or not safetensors");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long n = lenBuf.getLong(0);
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw fail(path, "header length " + Long.toUnsignedString(n) + " exceeds the 100 MB limit;"
                        + " the file is corrupt or not safetensors");
            }
            if (8 + n > size) {
                throw fail(path, "header length " + n + " runs past the end of the " + size
                        + "-byte file; the file is truncated");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
            readFully(ch, headerBuf, 8);
            Header header = parseHeader(path, headerBuf.flip(), size - 8 - n);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                return new SafetensorsFile(path, arena, all.asSlice(8 + n), header.tensors, header.metadata);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(path + ": no such file", e);
        } catch (IOException e) {
            throw new SafetensorsException(path + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private record Header(Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    }

    /**
     * Validates a header: UTF-8 JSON object, no duplicate keys, string→string {@code __metadata__}, whitelisted
     * dtypes, names without NUL, shapes whose byte size equals the offset range, and offsets that are sorted,
     * contiguous, non-overlapping and cover the {@code dataBytes}-long data section exactly.
     */
    private static Header parseHeader(Path path, ByteBuffer bytes, long dataBytes) {
        String text;
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes);
            text = chars.toString();
        } catch (CharacterCodingException e) {
            throw fail(path, "header is not valid UTF-8");
        }
        if (!text.startsWith("{")) {
            throw fail(path, "header does not start with '{'; the file is not safetensors");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            String why = e.getOriginalMessage();
            if (why != null && why.startsWith("Duplicate field")) {
                throw fail(path, "header has a duplicate key: " + why.substring("Duplicate field".length()).strip());
            }
            throw fail(path, "header is not valid JSON (" + firstLine(why) + ")");
        }
        if (root == null || !root.isObject()) {
            throw fail(path, "header is not a JSON object");
        }
        Map<String, String> metadata = Map.of();
        List<TensorInfo> list = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String name = e.getKey();
            if (name.equals("__metadata__")) {
                metadata = parseMetadata(path, e.getValue());
                continue;
            }
            list.add(parseTensor(path, name, e.getValue()));
        }
        checkOffsets(path, list, dataBytes);
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (TensorInfo t : list) {
            tensors.put(t.name(), t);
        }
        return new Header(Collections.unmodifiableMap(tensors), metadata);
    }

    private static Map<String, String> parseMetadata(Path path, JsonNode node) {
        if (!node.isObject()) {
            throw fail(path, "__metadata__ must be a JSON object of strings");
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw fail(path, "__metadata__ value of '" + e.getKey() + "' is not a string");
            }
            m.put(e.getKey(), e.getValue().asText());
        }
        return Collections.unmodifiableMap(m);
    }

    private static TensorInfo parseTensor(Path path, String name, JsonNode node) {
        if (name.indexOf('\0') >= 0) {
            throw fail(path, "tensor name '" + name.replace("\0", "\\0") + "' contains a NUL character");
        }
        String where = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw fail(path, where + ": entry is not a JSON object");
        }
        JsonNode dt = node.get("dtype");
        JsonNode sh = node.get("shape");
        JsonNode off = node.get("data_offsets");
        if (dt == null || !dt.isTextual()) {
            throw fail(path, where + ": missing or non-string dtype");
        }
        DType dtype = DType.fromSafetensors(dt.asText()).orElseThrow(() ->
                fail(path, where + ": dtype '" + dt.asText() + "' is not a safetensors dtype"));
        if (sh == null || !sh.isArray()) {
            throw fail(path, where + ": missing or non-array shape");
        }
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeInteger(path, where + ": shape[" + i + "]", sh.get(i));
        }
        if (off == null || !off.isArray() || off.size() != 2) {
            throw fail(path, where + ": data_offsets must be [begin, end]");
        }
        long begin = nonNegativeInteger(path, where + ": data_offsets[0]", off.get(0));
        long end = nonNegativeInteger(path, where + ": data_offsets[1]", off.get(1));
        if (end < begin) {
            throw fail(path, where + ": data_offsets end " + end + " is before begin " + begin);
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(NpyArray.elementCount(shape), dtype.size());
        } catch (ArithmeticException e) {
            throw fail(path, where + ": shape × dtype size overflows 64 bits");
        }
        if (bytes != end - begin) {
            throw fail(path, where + ": shape " + java.util.Arrays.toString(shape) + " of " + dtype + " needs "
                    + bytes + " bytes but data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long nonNegativeInteger(Path path, String where, JsonNode n) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
            throw fail(path, where + " must be a non-negative integer, got " + n);
        }
        return n.asLong();
    }

    private static void checkOffsets(Path path, List<TensorInfo> list, long dataBytes) {
        List<TensorInfo> sorted = new ArrayList<>(list);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expected = 0;
        for (TensorInfo t : sorted) {
            if (t.begin() != expected) {
                throw fail(path, "tensor '" + t.name() + "': data_offsets begin at " + t.begin() + " but the previous"
                        + " tensor ends at " + expected + " (offsets must be contiguous and must not overlap)");
            }
            expected = t.end();
        }
        if (expected != dataBytes) {
            throw fail(path, "tensors cover " + expected + " bytes but the data section has " + dataBytes
                    + " (the file is truncated or has trailing bytes)");
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "parse error";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static SafetensorsException fail(Path path, String rule) {
        return new SafetensorsException(path + ": " + rule);
    }

    public Path path() {
        return path;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public List<TensorInfo> tensors() {
        return List.copyOf(tensors.values());
    }

    @Override
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    @Override
    public MemorySegment data(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(path + ": no tensor '" + name + "'");
        }
        return dataSection.asSlice(t.begin(), t.byteSize());
    }

    @Override
    public String describe() {
        return path.toString();
    }

    @Override
    public void close() {
        arena.close();
    }
}
