package dev.unetlens.golden;

import dev.unetlens.io.DType;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.SafetensorsWriter;
import dev.unetlens.io.TensorInfo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * A golden model folder copied for a test that breaks one of its files: every file is a link to the golden one
 * until the test writes its own version.
 */
public final class ModelCopy {
    private ModelCopy() {
    }

    /** The golden model {@code model} as links under {@code dir}; returns {@code dir}. */
    public static Path of(String model, Path dir) {
        Path source = Golden.get().path("models/" + model);
        try (Stream<Path> files = Files.walk(source)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path target = dir.resolve(source.relativize(f).toString());
                Files.createDirectories(target.getParent());
                Files.createSymbolicLink(target, f.toAbsolutePath());
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code relative} of the copy {@code dir} (replacing its link); returns the file. */
    public static Path write(Path dir, String relative, byte[] bytes) {
        try {
            Path file = dir.resolve(relative);
            Files.deleteIfExists(file);
            Files.createDirectories(file.getParent());
            return Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@link #write} of UTF-8 text. */
    public static Path writeString(Path dir, String relative, String text) {
        return write(dir, relative, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** The names of the tensors of a weight file of the copy, in file order. */
    public static List<String> tensors(Path dir, String relative) {
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(relative))) {
            return f.names();
        }
    }

    /**
     * Rewrites the weight file {@code relative} of the copy with {@code tensor} stored as {@code dtype} (random bytes
     * of the right size) and everything else unchanged; returns the file.
     */
    public static Path retype(Path dir, String relative, String tensor, DType dtype) {
        Path file = dir.resolve(relative);
        byte[] bytes;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            SafetensorsWriter w = new SafetensorsWriter();
            for (TensorInfo t : f.tensors()) {
                if (t.name().equals(tensor)) {
                    byte[] data = new byte[Math.toIntExact(t.elementCount() * dtype.size())];
                    new SplittableRandom(7).nextBytes(data);
                    w.add(t.name(), dtype, t.shape(), ByteBuffer.wrap(data));
                } else {
                    w.add(t.name(), t.dtype(), t.shape(), f.data(t.name()));
                }
            }
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            w.writeTo(out);
            bytes = out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return write(dir, relative, bytes);
    }
}
