package dev.unetlens.fuzz;

import dev.unetlens.io.DType;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.TensorInfo;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file as the fuzzer edits it: tensors in data order, each with a dtype name (any string), a shape and
 * its bytes, and the metadata. {@link #bytes} writes it with offsets that tile the data, so edits that keep every
 * tensor's byte count right give a valid file; the header text can also be edited before writing.
 */
final class StFile {
    /** One tensor entry: the dtype is a name, so that it may be one safetensors does not have. */
    static final class Tensor {
        String name;
        String dtype;
        long[] shape;
        byte[] data;

        Tensor(String name, String dtype, long[] shape, byte[] data) {
            this.name = name;
            this.dtype = dtype;
            this.shape = shape;
            this.data = data;
        }

        Tensor copy() {
            return new Tensor(name, dtype, shape.clone(), data);
        }

        long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    final List<Tensor> tensors = new ArrayList<>();
    Map<String, String> metadata;

    /** A valid file, read whole. */
    static StFile read(Path file) {
        StFile f = new StFile();
        try (SafetensorsFile s = SafetensorsFile.open(file)) {
            for (TensorInfo t : s.tensors()) {
                f.tensors.add(new Tensor(t.name(), t.dtype().name(), t.shape(), s.data(t.name()).toArray(ValueLayout.JAVA_BYTE)));
            }
            f.metadata = s.hasMetadata() ? new LinkedHashMap<>(s.metadata()) : null;
        }
        return f;
    }

    StFile copy() {
        StFile f = new StFile();
        tensors.forEach(t -> f.tensors.add(t.copy()));
        f.metadata = metadata == null ? null : new LinkedHashMap<>(metadata);
        return f;
    }

    /** Bytes per element of a dtype name; 1 for names safetensors does not have. */
    static int size(String dtype) {
        return DType.fromSafetensors(dtype).map(DType::size).orElse(1);
    }

    /** The header as JSON text, offsets tiling the data in list order. */
    String header() {
        StringBuilder h = new StringBuilder("{");
        if (metadata != null) {
            h.append("\"__metadata__\":{");
            int i = 0;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                h.append(i++ == 0 ? "" : ",").append(json(e.getKey())).append(':').append(json(e.getValue()));
            }
            h.append('}');
        }
        long offset = 0;
        for (Tensor t : tensors) {
            h.append(h.length() > 1 ? "," : "").append(json(t.name)).append(":{\"dtype\":").append(json(t.dtype))
                    .append(",\"shape\":[");
            for (int i = 0; i < t.shape.length; i++) {
                h.append(i == 0 ? "" : ",").append(t.shape[i]);
            }
            h.append("],\"data_offsets\":[").append(offset).append(',').append(offset + t.data.length).append("]}");
            offset += t.data.length;
        }
        return h.append('}').toString();
    }

    byte[] data() {
        ByteBuffer out = ByteBuffer.allocate(tensors.stream().mapToInt(t -> t.data.length).sum());
        tensors.forEach(t -> out.put(t.data));
        return out.array();
    }

    byte[] bytes() {
        byte[] header = header().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + header.length + tensors.stream().mapToInt(t -> t.data.length).sum())
                .order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).put(header);
        tensors.forEach(t -> out.put(t.data));
        return out.array();
    }

    /** {@code u64 N | header | data}. */
    static byte[] image(byte[] header, byte[] data) {
        return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).put(data).array();
    }

    /** A JSON string literal; control characters and unpaired surrogates as {@code \\uXXXX} escapes. */
    static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || Character.isSurrogate(c) && !paired && !(Character.isLowSurrogate(c) && i > 0
                    && Character.isHighSurrogate(s.charAt(i - 1)))) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
