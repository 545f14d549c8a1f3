package dev.unetlens.io.ldm;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A minimal safetensors writer for test fixtures (golden README §1 layout: u64 header length, JSON header padded
 * with spaces to a multiple of 8, then the tensors' bytes in header order).
 */
final class TestSafetensors {
    private TestSafetensors() {
    }

    static Path write(Path file, Map<String, Blob> tensors) throws IOException {
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (Map.Entry<String, Blob> e : tensors.entrySet()) {
            Blob b = e.getValue();
            if (header.length() > 1) {
                header.append(',');
            }
            header.append('"').append(e.getKey()).append("\":{\"dtype\":\"").append(b.dtype().name())
                    .append("\",\"shape\":[").append(Arrays.stream(b.shape()).mapToObj(Long::toString)
                            .collect(Collectors.joining(","))).append("],\"data_offsets\":[")
                    .append(offset).append(',').append(offset + b.data().length).append("]}");
            offset += b.data().length;
        }
        header.append('}');
        while (header.length() % 8 != 0) {
            header.append(' ');
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            out.write(h);
            for (Blob b : tensors.values()) {
                out.write(b.data());
            }
        }
        return file;
    }
}
