package dev.unetlens.web.tensors;

import dev.unetlens.io.DType;
import dev.unetlens.io.IoErrors;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.web.ApiError;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Reads a block of a dumped tensor without loading the rest: {@code .npy} and {@code .safetensors} files are
 * memory-mapped and only the pages of the block are touched; an {@code .npz} entry (stored, as {@code extract} writes
 * them) is skipped to the block. The file's own header must agree with the manifest's shape, and the values must be
 * floating point; anything else is a 422 naming the file.
 */
public final class TensorReader {
    /** The most elements one read may return (256 Mi floats: 1 GiB). */
    public static final long MAX_ELEMENTS = 1L << 28;
    private static final int HEADER_PREFIX = 1 << 20;

    private TensorReader() {
    }

    /**
     * Elements [first, first + count) in C order of the tensor {@code entry} of {@code file}, as float32.
     *
     * @param shape the shape the manifest gives (checked against the file's)
     */
    public static float[] read(Path file, String entry, long[] shape, long first, long count) {
        long total = NpyArray.elementCount(shape);
        if (first < 0 || count < 0 || first + count > total || count > MAX_ELEMENTS) {
            throw ApiError.badRequest("elements [" + first + ", " + (first + count) + ") are outside a tensor of "
                    + total + " (or more than " + MAX_ELEMENTS + " at once)");
        }
        String name = file.getFileName().toString();
        try {
            if (name.endsWith(".npy")) {
                return npy(file, shape, first, count);
            }
            if (name.endsWith(".npz")) {
                return npz(file, entry, shape, first, count);
            }
            if (name.endsWith(".safetensors")) {
                return safetensors(file, entry, shape, first, count);
            }
        } catch (ApiError e) {
            throw e;
        } catch (IOException e) {
            throw ApiError.unreadable(name + ": cannot read (" + IoErrors.reason(e) + ")");
        } catch (RuntimeException e) {
            throw ApiError.unreadable(name + ": " + dev.unetlens.Messages.line(String.valueOf(e.getMessage())));
        }
        throw ApiError.unreadable(name + ": not a tensor file the explorer reads (npy, npz, safetensors)");
    }

    private static float[] npy(Path file, long[] shape, long first, long count) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long size = ch.size();
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            Npy.Header h = Npy.header(all.asSlice(0, Math.min(size, HEADER_PREFIX)).asByteBuffer(), file.getFileName().toString());
            check(file, h.dtype(), h.shape(), shape);
            if (h.dataOffset() + h.dataBytes() > size) {
                throw ApiError.unreadable(file.getFileName() + ": truncated (" + size + " bytes, the header asks for "
                        + (h.dataOffset() + h.dataBytes()) + ")");
            }
            int es = h.dtype().size();
            return floats(h.dtype(), all.asSlice(h.dataOffset() + first * es, count * es).asByteBuffer(), count);
        }
    }

    private static float[] npz(Path file, String entry, long[] shape, long first, long count) throws IOException {
        try (FileSystem zip = FileSystems.newFileSystem(file)) {
            Path p = zip.getPath(entry + ".npy");
            if (!Files.isRegularFile(p)) {
                throw ApiError.unreadable(file.getFileName() + " has no entry " + entry + ".npy");
            }
            try (InputStream in = Files.newInputStream(p)) {
                byte[] head = in.readNBytes(12);
                int len = head.length >= 10 && head[6] == 1 ? (head[8] & 0xff | (head[9] & 0xff) << 8) + 10
                        : head.length >= 12 ? (int) Math.min(HEADER_PREFIX, ByteBuffer.wrap(head, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL) + 12 : 12;
                byte[] rest = in.readNBytes(Math.max(0, len - head.length));
                ByteBuffer hb = ByteBuffer.allocate(head.length + rest.length).put(head).put(rest).flip();
                Npy.Header h = Npy.header(hb, file.getFileName() + "!" + entry);
                check(file, h.dtype(), h.shape(), shape);
                int es = h.dtype().size();
                in.skipNBytes(first * es);
                byte[] data = in.readNBytes(Math.toIntExact(count * es));
                if (data.length != count * es) {
                    throw ApiError.unreadable(file.getFileName() + "!" + entry + ": truncated");
                }
                return floats(h.dtype(), ByteBuffer.wrap(data), count);
            }
        }
    }

    private static float[] safetensors(Path file, String entry, long[] shape, long first, long count) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            TensorInfo t = f.info(entry).orElseThrow(() ->
                    ApiError.unreadable(file.getFileName() + " has no tensor " + entry));
            check(file, t.dtype(), t.shape(), shape);
            int es = t.dtype().size();
            return floats(t.dtype(), f.data(entry).asSlice(first * es, count * es).asByteBuffer(), count);
        }
    }

    private static void check(Path file, DType dtype, long[] actual, long[] expected) {
        if (!Arrays.equals(actual, expected)) {
            throw ApiError.unreadable(file.getFileName() + " holds a tensor of shape " + Arrays.toString(actual)
                    + ", but the manifest says " + Arrays.toString(expected));
        }
        if (!dtype.isFloat()) {
            throw ApiError.unreadable(file.getFileName() + " holds " + dtype + " values; the explorer draws floating-point tensors");
        }
    }

    private static float[] floats(DType dtype, ByteBuffer bytes, long count) {
        return new NpyArray(dtype, new long[] {count}, bytes.order(ByteOrder.LITTLE_ENDIAN)).toFloats();
    }
}
