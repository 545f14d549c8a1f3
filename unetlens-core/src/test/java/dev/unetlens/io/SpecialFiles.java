package dev.unetlens.io;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/** Files that are not regular files, for tests of what loaders do with them: FIFOs (through libc's mkfifo). */
public final class SpecialFiles {
    private static final MethodHandle MKFIFO = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("mkfifo").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private SpecialFiles() {
    }

    /** Makes a FIFO (a named pipe) at {@code path}: opening it for reading blocks until a writer opens it. */
    public static Path fifo(Path path) throws IOException {
        int rc;
        try (Arena arena = Arena.ofConfined()) {
            rc = (int) MKFIFO.invokeExact(arena.allocateFrom(path.toString()), 0600);
        } catch (Throwable t) {
            throw new IOException("mkfifo " + path, t);
        }
        if (rc != 0) {
            throw new IOException("mkfifo " + path + " failed");
        }
        return path;
    }

    /** Opens a FIFO for reading and writing, which never blocks on Linux and lets a reader blocked opening it go on. */
    public static void unblock(Path fifo) {
        try (RandomAccessFile ignored = new RandomAccessFile(fifo.toFile(), "rw")) {
            // opening is enough: the reader's open returns, and closing gives it end-of-file
        } catch (IOException e) {
            // best effort
        }
    }
}
