package dev.unetlens.io;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Streaming tensor bytes out of memory-mapped files without keeping them: bytes are copied block by block through one
 * reused buffer per thread, and the pages of a mapped source are dropped from the process as soon as they are read
 * (they stay in the page cache), so writing a multi-GB model holds a block of it, not the model.
 */
public final class Segments {
    /** Bytes per block. */
    public static final int BLOCK = 1 << 19;
    private static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[BLOCK]);

    private Segments() {
    }

    /** Writes all of {@code s} to {@code out}, releasing each block of a mapped {@code s} once written. */
    public static void copy(MemorySegment s, OutputStream out) throws IOException {
        byte[] chunk = BUFFER.get();
        for (long at = 0; at < s.byteSize(); at += chunk.length) {
            int len = (int) Math.min(chunk.length, s.byteSize() - at);
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, at, chunk, 0, len);
            out.write(chunk, 0, len);
            release(s, at, len);
        }
    }

    /** Drops {@code [offset, offset + length)} of a mapped {@code s} from this process's memory; others: nothing. */
    public static void release(MemorySegment s, long offset, long length) {
        if (s.isMapped() && length > 0) {
            s.asSlice(offset, length).unload();
        }
    }
}
