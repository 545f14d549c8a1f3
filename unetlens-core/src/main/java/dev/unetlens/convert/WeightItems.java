package dev.unetlens.convert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;
import dev.unetlens.io.DType;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.SafetensorsWriter;
import dev.unetlens.io.Segments;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;
import dev.unetlens.pipeline.Progress;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The tensors of one safetensors file being written: each a name, a type, a shape and a stream of its bytes, read
 * from the source as they are written (nothing is held whole), so a multi-GB model converts in little memory. The
 * file is then read back and compared with a second pass over the sources.
 */
final class WeightItems {
    private WeightItems() {
    }

    /** Streams a tensor's bytes. */
    @FunctionalInterface
    interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    /** One tensor of the file. */
    record Item(String name, DType dtype, long[] shape, Body body) {
        long bytes() {
            long n = dtype.size();
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }
    }

    /** {@code source}'s tensor {@code key} as {@code as}, converted to {@code dtype} if floating (null: kept). */
    static Item cast(TensorSource source, String key, String as, DType dtype) {
        TensorInfo t = source.info(key).orElseThrow();
        DType d = Casts.target(t.dtype(), dtype);
        return new Item(as, d, t.shape(), out -> {
            MemorySegment s = source.data(key);
            Casts.write(s, t.dtype(), d, out);
            if (s.isMapped()) {
                s.unload();   // the pages read stay in the page cache, not in this process
            }
        });
    }

    /** Writes {@code items} as the safetensors file {@code name} of {@code out}; returns its manifest entry. */
    static ObjectNode write(OutputDirectory out, String name, List<Item> items, Map<String, String> metadata,
                            String description, Progress progress) {
        SafetensorsWriter w = new SafetensorsWriter();
        if (metadata != null) {
            w.metadata(metadata);
        }
        long total = items.stream().mapToLong(Item::bytes).sum();
        Ticks ticks = new Ticks(progress, total);
        for (Item item : items) {
            w.add(item.name(), item.dtype(), item.shape(), o -> {
                item.body().writeTo(o);
                ticks.add(item.bytes(), item.name());
            });
        }
        progress.start("write " + name, total);
        try {
            return out.write(name, w::writeTo, description);
        } finally {
            progress.finish();
        }
    }

    /**
     * Reads {@code file} back: exactly the names, types and shapes of {@code items}, and bytes equal to a second
     * stream of each item's source. Returns the number of bytes compared.
     */
    static long verify(Path file, List<Item> items, Progress progress) {
        long total = items.stream().mapToLong(Item::bytes).sum();
        progress.start("verify " + file.getFileName(), total);
        Ticks ticks = new Ticks(progress, total);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            if (f.names().size() != items.size()) {
                throw mismatch(file, "holds " + f.names().size() + " tensors, " + items.size() + " were written");
            }
            for (Item item : items) {
                TensorInfo t = f.info(item.name()).orElseThrow(() -> mismatch(file, "lacks " + Messages.quote(item.name())));
                if (t.dtype() != item.dtype() || !Arrays.equals(t.shape(), item.shape())) {
                    throw mismatch(file, "holds " + Messages.quote(item.name()) + " as " + t.dtype()
                            + Messages.shape(t.shape()) + ", not " + item.dtype() + Messages.shape(item.shape()));
                }
                MemorySegment written = f.data(item.name());
                compare(item, written, file.toString());
                written.unload();
                ticks.add(item.bytes(), item.name());
            }
        } finally {
            progress.finish();
        }
        return total;
    }

    /** Reports bytes done in steps of 2 % (a model has a thousand tensors: a line each would flood a log). */
    private static final class Ticks {
        private final Progress progress;
        private final long total;
        private long done;
        private long next;

        Ticks(Progress progress, long total) {
            this.progress = progress;
            this.total = total;
        }

        void add(long bytes, String name) {
            done += bytes;
            if (done >= next || done == total) {
                progress.advance(done, name);
                next = done + Math.max(1, total / 50);
            }
        }
    }

    /** Fails unless a second stream of {@code item}'s source equals {@code written} byte for byte. */
    static void compare(Item item, MemorySegment written, String where) {
        try {
            Comparing c = new Comparing(where, item.name(), written);
            item.body().writeTo(c);
            if (c.at != written.byteSize()) {
                throw mismatch(where, "holds more bytes of " + Messages.quote(item.name()) + " than its source");
            }
        } catch (IOException e) {
            throw new UnetlensException(where + ": cannot verify " + Messages.quote(item.name()) + ": "
                    + Messages.value(e.getMessage()), e);
        }
    }

    private static UnetlensException mismatch(Path file, String what) {
        return mismatch(file.toString(), what);
    }

    private static UnetlensException mismatch(String where, String what) {
        return new UnetlensException(where + ": read back, the file " + what + "; the conversion is not trusted");
    }

    /** Compares what is written to it with a tensor's bytes in the file, failing at the first difference. */
    private static final class Comparing extends OutputStream {
        private final String file;
        private final String name;
        private final MemorySegment expected;
        private long at;

        Comparing(String file, String name, MemorySegment expected) {
            this.file = file;
            this.name = name;
            this.expected = expected;
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (at + len > expected.byteSize()) {
                throw mismatch(file, "holds fewer bytes of " + Messages.quote(name) + " than its source");
            }
            long m = MemorySegment.ofArray(b).asSlice(off, len).mismatch(expected.asSlice(at, len));
            if (m >= 0) {
                throw mismatch(file, "differs from its source in " + Messages.quote(name) + " at byte " + (at + m));
            }
            Segments.release(expected, at, len);
            at += len;
        }
    }
}
