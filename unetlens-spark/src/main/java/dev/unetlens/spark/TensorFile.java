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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One image's full maps as a float16 safetensors file: per module one tensor [T, S, C, H, W] (timesteps in the
 * request's order, then draws), named by the module, with the image's path, timesteps and draws in the metadata;
 * written atomically to {@code tensors/<first 16 hex digits of SHA-256(path)>.safetensors} and listed in the features
 * table.
 */
final class TensorFile {
    private final Path folder;
    private final String path;
    private final List<Integer> timesteps;
    private final int samples;
    private final Map<String, ByteBuffer> tensors = new LinkedHashMap<>();
    private final Map<String, MapShape> shapes = new LinkedHashMap<>();

    TensorFile(Path folder, String path, List<Integer> timesteps, int samples) {
        this.folder = folder;
        this.path = path;
        this.timesteps = List.copyOf(timesteps);
        this.samples = samples;
    }

    /** Draw {@code k}'s map [C, H, W] of {@code module} at {@code timestep}, rounded to float16. */
    void add(String module, MapShape s, int timestep, int k, float[] x) {
        ByteBuffer b = tensors.computeIfAbsent(module, m -> ByteBuffer.allocate(timesteps.size() * samples * s.size() * 2)
                .order(ByteOrder.LITTLE_ENDIAN));
        shapes.put(module, s);
        int at = (timesteps.indexOf(timestep) * samples + k) * s.size() * 2;
        for (int i = 0; i < x.length; i++) {
            b.putShort(at + 2 * i, Float.floatToFloat16(x[i]));
        }
    }

    /** Writes the file; returns its name relative to the output directory. */
    String write() {
        SafetensorsWriter writer = new SafetensorsWriter();
        tensors.forEach((m, b) -> {
            MapShape s = shapes.get(m);
            writer.add(m, DType.F16, new long[] {timesteps.size(), samples, s.channels(), s.height(), s.width()}, b);
        });
        writer.metadata(Map.of("path", path, "timesteps", timesteps.stream().map(String::valueOf).collect(Collectors.joining(",")),
                "samples", Integer.toString(samples), "layout", "[timestep, sample, C, H, W]"));
        writer.write(folder.resolve(name(path) + ".safetensors"));
        return "tensors/" + name(path) + ".safetensors";
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
