package dev.unetlens.io;

import dev.unetlens.UnetlensException;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes files so that a reader never sees a half-written one: the bytes go to a temporary file in the same
 * directory, are forced to disk, and the temporary file is then renamed over the target in one step.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes the bytes of the file to {@code out} (which it need not close). */
    @FunctionalInterface
    public interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code target} with the bytes {@code body} produces. If the body throws, the target is left as it
     * was (absent or the old file) and the temporary file is deleted; the exception propagates (an
     * {@link IOException} wrapped in an {@link UnetlensException}).
     */
    public static void write(Path target, Body body) {
        write(target, body, complete -> { });
    }

    /**
     * {@link #write(Path, Body)}, with {@code beforeMove} given the complete temporary file just before it takes the
     * target's name: a caller that records its files (a manifest) records it there, so that a process killed at any
     * moment leaves no file it has not recorded (only a hidden temporary one).
     */
    public static void write(Path target, Body body, java.util.function.Consumer<Path> beforeMove) {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = createTemp(dir, target.getFileName().toString());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
                 OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16)) {
                body.writeTo(new NonClosing(out));
                out.flush();
                ch.force(true);
            }
            beforeMove.accept(tmp);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            syncDirectory(dir);
        } catch (IOException e) {
            throw new UnetlensException("cannot write " + target + ": " + IoErrors.reason(e), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the temporary file is hidden and harmless; the original error is what matters
                }
            }
        }
    }

    /**
     * A new hidden {@code .<name>.<random>.part} file next to the target. Unlike {@code Files.createTempFile},
     * whose files are private (0600 on POSIX), it gets the permissions any new file gets (the umask), so the
     * renamed result reads like a normally written file. The name is cut to 40 code points to stay within the
     * 255-byte file name limit.
     */
    private static Path createTemp(Path dir, String name) throws IOException {
        int cut = name.codePointCount(0, name.length()) > 40 ? name.offsetByCodePoints(0, 40) : name.length();
        String prefix = "." + name.substring(0, cut) + ".";
        for (int attempt = 0; ; attempt++) {
            String random = Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
            Path p = dir.resolve(prefix + random + ".part");
            try {
                return Files.createFile(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt == 100) {
                    throw e;
                }
            }
        }
    }

    /** Makes the rename durable where the platform can sync a directory; elsewhere the rename is still atomic. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // not supported here (e.g. Windows); visibility is atomic either way
        }
    }

    /** The body's view of the file: closing it only flushes, so the writer can still force and rename. */
    private static final class NonClosing extends FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }

    /** Deletes {@code dir} and everything below it, as far as it can; a leftover is harmless to the callers. */
    public static void deleteTreeQuietly(Path dir) {
        if (!java.nio.file.Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> s = java.nio.file.Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a leftover (hidden, temporary) folder does no harm
        }
    }

    public static void writeString(Path target, String text) {
        write(target, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    public static void writeBytes(Path target, byte[] bytes) {
        write(target, out -> out.write(bytes));
    }
}
