package dev.unetlens.io;

import dev.unetlens.Messages;
import dev.unetlens.io.SafetensorsException.Rule;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes safetensors files byte for byte as the reference serializer does ({@code prepare} and {@code serialize}
 * in {@code huggingface/safetensors}, {@code safetensors/src/tensor.rs}):
 * <ol>
 *   <li>tensors are laid out sorted by dtype, in the reference's {@code Dtype} order descending (U64, I64, F64,
 *       F32, ..., U8, BOOL), then by name (UTF-8 byte order);</li>
 *   <li>the header is compact JSON as serde_json writes it: {@code __metadata__} first, then each tensor as
 *       {@code {"dtype":..,"shape":[..],"data_offsets":[begin,end]}} in layout order; strings escape only
 *       {@code "}, {@code \} and control characters ({@code \n}, {@code \u001f}, ...);</li>
 *   <li>the header is padded with spaces to a multiple of 8 bytes and may not exceed 100 000 000 bytes.</li>
 * </ol>
 * Tensor bytes are streamed from the caller's memory at write time, never copied as a whole, so a multi-GB model
 * can be written while it is held once. Sources passed to {@code add} must stay valid and unchanged until the
 * write returns. Files are written atomically ({@link AtomicFiles#write}): a new file is renamed over the target,
 * so rewriting a file that is itself mapped as a source (via {@link #addAll}) is safe.
 *
 * <pre>{@code
 * new SafetensorsWriter().metadata(Map.of("format", "pt"))
 *         .add("conv_in.weight", DType.F32, new long[] {320, 4, 3, 3}, segment)
 *         .addFloats("conv_in.bias", new long[] {320}, bias)
 *         .write(path);
 * }</pre>
 */
public final class SafetensorsWriter {
    private static final int CHUNK = 1 << 20;

    /** Streams exactly the declared number of bytes of one tensor to {@code out}. */
    @FunctionalInterface
    public interface TensorBytes {
        void writeTo(OutputStream out) throws IOException;
    }

    private record Entry(String name, byte[] utf8Name, DType dtype, long[] shape, long bytes, TensorBytes data) {
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private Map<String, String> metadata;   // null: no __metadata__ entry

    /** Sets the {@code __metadata__} map (written in its iteration order; an empty map is written as {@code {}}). */
    public SafetensorsWriter metadata(Map<String, String> metadata) {
        Map<String, String> copy = new LinkedHashMap<>();
        metadata.forEach((k, v) -> {
            checkText("metadata key", k);
            checkText("metadata value of '" + k + "'", v);
            copy.put(k, v);
        });
        this.metadata = copy;
        return this;
    }

    /** Adds a tensor whose bytes (little-endian) are the whole of {@code data}. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, MemorySegment data) {
        return add(name, dtype, shape, data.byteSize(), out -> Segments.copy(data, out));
    }

    /** Adds a tensor whose bytes (little-endian) are the remaining bytes of {@code data}. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, ByteBuffer data) {
        ByteBuffer view = data.duplicate();
        return add(name, dtype, shape, view.remaining(), out -> Segments.copy(MemorySegment.ofBuffer(view), out));
    }

    /** Adds an F32 tensor. */
    public SafetensorsWriter addFloats(String name, long[] shape, float[] values) {
        return add(name, DType.F32, shape, values.length * 4L, out -> copyFloats(values, out));
    }

    /**
     * Adds a tensor whose bytes {@code data} streams at write time; it must write exactly
     * {@code product(shape) * dtype.size()} bytes.
     */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, TensorBytes data) {
        return add(name, dtype, shape, byteSize(name, dtype, shape), data);
    }

    /** Adds every tensor of {@code source} (stored bytes, unchanged). */
    public SafetensorsWriter addAll(TensorSource source) {
        for (String name : source.names()) {
            TensorInfo t = source.info(name).orElseThrow();
            add(name, t.dtype(), t.shape(), source.data(name));
        }
        return this;
    }

    private SafetensorsWriter add(String name, DType dtype, long[] shape, long dataBytes, TensorBytes data) {
        checkText("tensor name", name);
        if (name.indexOf('\0') >= 0 || name.equals(SafetensorsHeader.METADATA_KEY)) {
            throw new IllegalArgumentException("tensor name " + Messages.quote(name)
                    + " is not allowed: it contains NUL or is the metadata key");
        }
        if (entries.containsKey(name)) {
            throw new IllegalArgumentException("tensor " + Messages.quote(name) + " added twice");
        }
        long[] dims = shape.clone();
        long bytes = byteSize(name, dtype, dims);
        if (bytes != dataBytes) {
            throw new IllegalArgumentException("tensor " + Messages.quote(name) + ": shape "
                    + Arrays.toString(dims) + " of " + dtype + " needs " + bytes + " bytes, the data has " + dataBytes);
        }
        entries.put(name, new Entry(name, name.getBytes(StandardCharsets.UTF_8), dtype, dims, bytes, data));
        return this;
    }

    /** Writes the file atomically: a reader sees the old file or the complete new one, never a partial one. */
    public void write(Path file) {
        byte[] header = header(file.toString());
        AtomicFiles.write(file, out -> writeTo(out, header));
    }

    /** Writes the whole file image to {@code out}. */
    public void writeTo(OutputStream out) throws IOException {
        writeTo(out, header("<stream>"));
    }

    /** The file size the tensors and metadata added so far make. */
    public long fileSize() {
        long data = 0;
        for (Entry e : entries.values()) {
            data = Math.addExact(data, e.bytes);
        }
        return 8 + header("<size>").length + data;
    }

    private void writeTo(OutputStream out, byte[] header) throws IOException {
        ByteBuffer n = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
        out.write(n.array());
        out.write(header);
        for (Entry e : layout()) {
            CountingStream counted = new CountingStream(out, e);
            e.data.writeTo(counted);
            if (counted.count != e.bytes) {
                throw new IllegalStateException("tensor " + Messages.quote(e.name) + " wrote "
                        + counted.count + " bytes instead of " + e.bytes);
            }
        }
        out.flush();
    }

    /** Tensors in the reference's order: dtype descending, then name by UTF-8 bytes. */
    private List<Entry> layout() {
        List<Entry> list = new ArrayList<>(entries.values());
        list.sort(Comparator.comparingInt((Entry e) -> -referenceRank(e.dtype))
                .thenComparing(Entry::utf8Name, Arrays::compareUnsigned));
        return list;
    }

    /**
     * The position of {@code d} in the reference's {@code Dtype} enum, whose derived {@code Ord} the serializer
     * sorts by (BOOL, F4, F6_E2M3, F6_E3M2, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ, I16,
     * U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64).
     */
    static int referenceRank(DType d) {
        return switch (d) {
            case BOOL -> 0;
            case U8 -> 4;
            case I8 -> 5;
            case F8_E5M2 -> 6;
            case F8_E4M3 -> 7;
            case I16 -> 11;
            case U16 -> 12;
            case F16 -> 13;
            case BF16 -> 14;
            case I32 -> 15;
            case U32 -> 16;
            case F32 -> 17;
            case F64 -> 19;
            case I64 -> 20;
            case U64 -> 21;
        };
    }

    /** The padded header JSON; {@code where} names the target in the too-large error. */
    private byte[] header(String where) {
        StringBuilder json = new StringBuilder("{");
        if (metadata != null) {
            json.append("\"__metadata__\":{");
            String sep = "";
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                json.append(sep);
                string(json, m.getKey()).append(':');
                string(json, m.getValue());
                sep = ",";
            }
            json.append('}');
        }
        long offset = 0;
        for (Entry e : layout()) {
            json.append(json.length() > 1 ? "," : "");
            string(json, e.name).append(":{\"dtype\":\"").append(e.dtype.name()).append("\",\"shape\":[");
            for (int i = 0; i < e.shape.length; i++) {
                json.append(i > 0 ? "," : "").append(e.shape[i]);
            }
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + e.bytes).append("]}");
            offset += e.bytes;
        }
        byte[] raw = json.append('}').toString().getBytes(StandardCharsets.UTF_8);
        int padded = (raw.length + 7) & ~7;
        if (padded > SafetensorsFile.MAX_HEADER_BYTES) {
            throw new SafetensorsException(Rule.HEADER_TOO_LARGE, where, null,
                    "the header would have " + padded + " bytes");
        }
        byte[] header = Arrays.copyOf(raw, padded);
        Arrays.fill(header, raw.length, padded, (byte) ' ');
        return header;
    }

    /** Appends {@code s} as a JSON string the way serde_json escapes it. */
    private static StringBuilder string(StringBuilder json, String s) {
        json.append('"');
        if (s.chars().noneMatch(c -> c < 0x20 || c == '"' || c == '\\')) {
            return json.append(s).append('"');
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                case '\b' -> json.append("\\b");
                case '\f' -> json.append("\\f");
                case '\n' -> json.append("\\n");
                case '\r' -> json.append("\\r");
                case '\t' -> json.append("\\t");
                default -> {
                    if (c < 0x20) {
                        json.append(String.format("\\u%04x", (int) c));
                    } else {
                        json.append(c);
                    }
                }
            }
        }
        return json.append('"');
    }

    private static long byteSize(String name, DType dtype, long[] shape) {
        try {
            long count = 1;
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("tensor " + Messages.quote(name) + ": negative dimension in shape "
                            + Arrays.toString(shape));
                }
                count = Math.multiplyExact(count, d);
            }
            return Math.multiplyExact(count, (long) dtype.size());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("tensor " + Messages.quote(name) + ": shape "
                    + Arrays.toString(shape) + " overflows 64 bits");
        }
    }

    private static void checkText(String what, String s) {
        if (s == null) {
            throw new IllegalArgumentException(what + " is null");
        }
        if (SafetensorsHeader.hasUnpairedSurrogate(s)) {
            throw new IllegalArgumentException(what + " " + Messages.quote(s)
                    + " holds an unpaired surrogate, which UTF-8 cannot encode");
        }
    }

    private static void copyFloats(float[] values, OutputStream out) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK, values.length * 4L)).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at < values.length; ) {
            chunk.clear();
            int len = Math.min(chunk.capacity() / 4, values.length - at);
            chunk.asFloatBuffer().put(values, at, len);
            out.write(chunk.array(), 0, len * 4);
            at += len;
        }
    }

    /** Passes bytes through, refusing more than the tensor declared. */
    private static final class CountingStream extends OutputStream {
        private final OutputStream out;
        private final Entry entry;
        long count;

        CountingStream(OutputStream out, Entry entry) {
            this.out = out;
            this.entry = entry;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (count + len > entry.bytes) {
                throw new IllegalStateException("tensor " + Messages.quote(entry.name) + " wrote more than its "
                        + entry.bytes + " bytes");
            }
            out.write(b, off, len);
            count += len;
        }

        @Override
        public void close() {
            // the file stream belongs to the writer
        }
    }
}
