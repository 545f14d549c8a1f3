package dev.unetlens.io;

import dev.unetlens.Messages;
import dev.unetlens.io.SafetensorsException.Rule;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A safetensors file, validated as strictly as the reference reader and memory-mapped with
 * {@code java.lang.foreign} (files over 2 GiB, tensors at any byte offset; read them with the
 * {@code ValueLayout.*_UNALIGNED} layouts, little-endian).
 *
 * <p>Layout: an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON, then the data section; each
 * tensor's {@code data_offsets} are relative to the start of the data section. The rules, checked in
 * {@link #open} before anything is mapped (see {@link Rule}):
 * <ol>
 *   <li>the file has at least 8 bytes; N is at most 100 000 000 and {@code 8 + N} is at most the file size;</li>
 *   <li>the header is valid UTF-8 and one JSON object (JSON whitespace around it is allowed);</li>
 *   <li>no key appears twice; {@code __metadata__}, if present, maps strings to strings;</li>
 *   <li>every other key is a tensor name without NUL, whose entry has a whitelisted {@code dtype}, a
 *       {@code shape} of non-negative integers and {@code data_offsets [begin, end]} with
 *       {@code begin <= end} and {@code product(shape) * dtype size == end - begin}, computed without
 *       overflow;</li>
 *   <li>sorted by offsets, the tensors are contiguous from 0, do not overlap, and end exactly at the end of the
 *       file.</li>
 * </ol>
 * Only the header is read while validating. Tensors are listed in offset order, as the reference's
 * {@code load_file} returns them.
 */
public final class SafetensorsFile implements TensorSource {
    /** The reference reader's limit on the header length N. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private final Path path;
    private final Arena arena;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final MemorySegment dataSection;
    private final long dataOffset;
    private final Map<String, TensorInfo> tensors;   // in offset order
    private final List<String> names;
    private final Map<String, String> metadata;      // null when the header has none

    private SafetensorsFile(Path path, Arena arena, MemorySegment dataSection, long dataOffset,
                            SafetensorsHeader.Parsed header) {
        this.path = path;
        this.arena = arena;
        this.dataSection = dataSection;
        this.dataOffset = dataOffset;
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (TensorInfo t : header.tensors()) {
            byName.put(t.name(), t);
        }
        this.tensors = byName;
        this.names = List.copyOf(byName.keySet());
        this.metadata = header.metadata();
    }

    /**
     * Opens, validates and maps {@code path}; throws {@link SafetensorsException} naming the broken rule, or a
     * one-line refusal when the file is a pickle or a torch zip checkpoint ({@link CheckpointFormat}). Only a regular
     * file is opened: a FIFO or a device is refused before it could block or feed the read.
     */
    public static SafetensorsFile open(Path path) {
        String file = path.toString();
        String problem = InputFiles.problem(path);
        if (problem != null) {
            throw new SafetensorsException(Rule.IO, file, null, problem);
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            CheckpointFormat format = CheckpointFormat.of(read(ch, 0, (int) Math.min(size, CheckpointFormat.HEAD_BYTES))
                    .array(), size);
            if (format.isPickle()) {
                throw format.refusal(path);
            }
            if (size < 8) {
                throw new SafetensorsException(Rule.FILE_TOO_SHORT, file, null, "the file has only " + size
                        + " bytes: it is truncated or not safetensors");
            }
            long n = read(ch, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            if (Long.compareUnsigned(n, MAX_HEADER_BYTES) > 0) {
                throw new SafetensorsException(Rule.HEADER_TOO_LARGE, file, null,
                        "the header length is " + Long.toUnsignedString(n));
            }
            if (n > size - 8) {
                throw new SafetensorsException(Rule.HEADER_PAST_END, file, null, "the header length " + n
                        + " runs past the end of the " + size + "-byte file");
            }
            SafetensorsHeader.Parsed header = SafetensorsHeader.parse(file, read(ch, 8, (int) n), size - 8 - n);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, 8 + n, size - 8 - n, arena);
                return new SafetensorsFile(path, arena, data, 8 + n, header);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(Rule.IO, file, null, "no such file", e);
        } catch (IOException e) {
            throw new SafetensorsException(Rule.IO, file, null, "cannot read: " + Messages.value(e), e);
        }
    }

    private static ByteBuffer read(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) {
                throw new IOException("unexpected end of file at byte " + (position + buf.position()));
            }
        }
        return buf.flip();
    }

    public Path path() {
        return path;
    }

    /** The {@code __metadata__} map, empty when the header has none. */
    public Map<String, String> metadata() {
        return metadata == null ? Map.of() : metadata;
    }

    /** Where the data section starts in the file: 8 + the header length. */
    public long dataOffset() {
        return dataOffset;
    }

    /** Whether the header has a {@code __metadata__} entry (possibly an empty object). */
    public boolean hasMetadata() {
        return metadata != null;
    }

    /** Every tensor, in offset order. */
    public List<TensorInfo> tensors() {
        return List.copyOf(tensors.values());
    }

    /** Tensor names in offset order. */
    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The stored bytes of {@code name}: a read-only slice of the mapping, at any byte alignment. */
    @Override
    public MemorySegment data(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new SafetensorsException(Rule.NO_SUCH_TENSOR, path.toString(), name, "the file has no such tensor");
        }
        if (closed.get()) {
            throw new SafetensorsException(Rule.CLOSED, path.toString(), name, "the file was closed");
        }
        return dataSection.asSlice(t.begin(), t.byteSize());
    }

    @Override
    public String describe() {
        return path.toString();
    }

    /** Unmaps the file; segments from {@link #data} become unusable. Closing twice does nothing. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            arena.close();
        }
    }
}
