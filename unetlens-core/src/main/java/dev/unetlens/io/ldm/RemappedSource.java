package dev.unetlens.io.ldm;

import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;
import dev.unetlens.io.SafetensorsException;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One component of a single-file checkpoint under its diffusers names: each tensor is a byte range of the mapped
 * file (a rename, a reshape, a block of rows) or a tensor computed into the checkpoint's arena. The
 * {@link TensorInfo#begin()}/{@link TensorInfo#end()} of an entry are the range of the file's data section it is
 * read or computed from.
 *
 * <p>Valid while its {@link SingleFileCheckpoint} is open; closing this view does nothing (the checkpoint owns the
 * file and the arena), so loaders may close it in try-with-resources as they close any source.
 */
final class RemappedSource implements TensorSource {
    private record Entry(TensorInfo info, String fileKey, long offset, MemorySegment computed) {
    }

    private final TensorSource file;
    private final String description;
    private final Map<String, Entry> entries;

    private RemappedSource(TensorSource file, String description, Map<String, Entry> entries) {
        this.file = file;
        this.description = description;
        this.entries = Collections.unmodifiableMap(entries);
    }

    @Override
    public List<String> names() {
        return List.copyOf(entries.keySet());
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        Entry e = entries.get(name);
        return e == null ? Optional.empty() : Optional.of(e.info);
    }

    @Override
    public MemorySegment data(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new SafetensorsException(description + ": no tensor " + Messages.quote(name));
        }
        return e.computed != null ? e.computed : file.data(e.fileKey).asSlice(e.offset, e.info.byteSize());
    }

    /** The file key a tensor is read or computed from (for messages and tests). */
    String fileKey(String name) {
        Entry e = entries.get(name);
        return e == null ? null : e.fileKey;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        // the checkpoint owns the file and the arena
    }

    /**
     * Collects the entries of one component. Keys passed in are the file keys without the component's prefix;
     * every key must end up mapped, ignored (a known extra, with the reason) or unknown (kept under its LDM name, so
     * that {@code Weights.verify()} names it).
     */
    static final class Builder {
        private final TensorSource file;
        private final String prefix;
        private final String description;
        private final Arena arena;
        private final Map<String, String> ignored;
        private final List<String> unknown;
        private final Map<String, Entry> entries = new LinkedHashMap<>();

        /**
         * @param ignored receives file key → reason for each known extra
         * @param unknown receives the file key of each tensor no rule maps
         */
        Builder(TensorSource file, String prefix, String description, Arena arena,
                Map<String, String> ignored, List<String> unknown) {
            this.file = file;
            this.prefix = prefix;
            this.description = description;
            this.arena = arena;
            this.ignored = ignored;
            this.unknown = unknown;
        }

        String describe() {
            return description;
        }

        private TensorInfo stored(String key) {
            return file.info(prefix + key).orElseThrow(() -> new IllegalArgumentException("no file key " + prefix + key));
        }

        private void put(String name, Entry e) {
            Entry old = entries.putIfAbsent(name, e);
            if (old != null) {
                throw new UnetlensException(description + ": both " + Messages.quote(old.fileKey) + " and "
                        + Messages.quote(e.fileKey) + " map to " + Messages.quote(name)
                        + "; the checkpoint has duplicate tensors");
            }
        }

        /** Same bytes, same shape, new name. */
        void rename(String key, String name) {
            TensorInfo t = stored(key);
            put(name, new Entry(new TensorInfo(name, t.dtype(), t.shape(), t.begin(), t.end()), prefix + key, 0, null));
        }

        /** Same bytes, new name and shape (same element count: a 1×1 conv kernel seen as a Linear weight). */
        void reshape(String key, String name, long... shape) {
            TensorInfo t = stored(key);
            TensorInfo r = new TensorInfo(name, t.dtype(), shape, t.begin(), t.end());
            if (r.elementCount() != t.elementCount()) {
                throw new IllegalArgumentException(key + " " + Arrays.toString(t.shape()) + " cannot be seen as "
                        + Arrays.toString(shape));
            }
            put(name, new Entry(r, prefix + key, 0, null));
        }

        /**
         * Part {@code part} of {@code parts} equal blocks of rows of a row-major tensor [R, ...]: rows
         * [part·R/parts, (part+1)·R/parts), which are contiguous bytes (torch's {@code chunk(parts, 0)}).
         */
        void rowBlock(String key, String name, int part, int parts) {
            TensorInfo t = stored(key);
            long[] shape = t.shape();
            if (shape.length == 0 || shape[0] % parts != 0) {
                throw new UnetlensException(description + ": " + Messages.quote(prefix + key) + " "
                        + Messages.shape(shape) + " cannot be split into " + parts + " equal row blocks");
            }
            shape[0] /= parts;
            long bytes = t.byteSize() / parts;
            long offset = part * bytes;
            TensorInfo r = new TensorInfo(name, t.dtype(), shape, t.begin() + offset, t.begin() + offset + bytes);
            put(name, new Entry(r, prefix + key, offset, null));
        }

        /** The transpose of a 2-D tensor [R, K] → [K, R], computed into the checkpoint's arena. */
        void transpose(String key, String name) {
            TensorInfo t = stored(key);
            long[] s = t.shape();
            if (s.length != 2) {
                throw new UnetlensException(description + ": " + Messages.quote(prefix + key) + " "
                        + Messages.shape(s) + " is not a matrix and cannot be transposed");
            }
            MemorySegment src = file.data(prefix + key);
            MemorySegment dst = arena.allocate(Math.max(1, t.byteSize()), 8).asSlice(0, t.byteSize());
            int size = t.dtype().size();
            long rows = s[0];
            long cols = s[1];
            for (long i = 0; i < rows; i++) {
                for (long j = 0; j < cols; j++) {
                    MemorySegment.copy(src, (i * cols + j) * size, dst, (j * rows + i) * size, size);
                }
            }
            TensorInfo r = new TensorInfo(name, t.dtype(), new long[] {cols, rows}, t.begin(), t.end());
            put(name, new Entry(r, prefix + key, 0, dst));
        }

        /** A known extra that diffusers does not load either. */
        void ignore(String key, String reason) {
            ignored.put(prefix + key, reason);
        }

        /** A tensor no rule maps: kept under its (prefix-less) LDM name so that loading the component names it. */
        void unknown(String key) {
            unknown.add(prefix + key);
            rename(key, key);
        }

        /**
         * A file key outside every component's prefix and not a known extra: kept under its full name in this
         * (the U-Net's) view, so that loading names it.
         */
        void unclaimed(String fileKey) {
            TensorInfo t = file.info(fileKey).orElseThrow();
            unknown.add(fileKey);
            put(fileKey, new Entry(new TensorInfo(fileKey, t.dtype(), t.shape(), t.begin(), t.end()), fileKey, 0, null));
        }

        RemappedSource build() {
            return new RemappedSource(file, description, new LinkedHashMap<>(entries));
        }
    }
}
