package dev.unetlens.spark;

import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.io.DType;
import dev.unetlens.io.SafetensorsWriter;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * One image's full maps as a float16 safetensors file (a tensor [C, H, W] per module, named by the module), written
 * atomically to {@code tensors/<first 16 hex digits of SHA-256(path)>.safetensors} and listed in the features table.
 */
final class TensorFile {
    private final Path folder;
    private final String path;
    private final SafetensorsWriter writer = new SafetensorsWriter();

    TensorFile(Path folder, String path) {
        this.folder = folder;
        this.path = path;
    }

    void add(String module, MapShape s, float[] x) {
        ByteBuffer b = ByteBuffer.allocate(x.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : x) {
            b.putShort(Float.floatToFloat16(v));
        }
        writer.add(module, DType.F16, new long[] {s.channels(), s.height(), s.width()}, b.flip());
    }

    /** Writes the file; returns its name relative to the output directory. */
    String write() {
        String name = "tensors/" + name(path) + ".safetensors";
        writer.metadata(Map.of("path", path));
        writer.write(folder.resolve(name(path) + ".safetensors"));
        return name;
    }

    static String name(String path) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(path.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
