package dev.unetlens.io;

import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * How unetlens opens the files it reads (weights, configs, tokenizer files, inputs): only regular files (links are
 * followed), so that a FIFO never blocks a read and a device never feeds one forever, and files read whole only up to
 * a size bound, checked before reading. Problems are one line that names the file.
 */
public final class InputFiles {
    /**
     * The most a text file read whole may hold: a JSON config, a tokenizer's {@code vocab.json} or
     * {@code merges.txt}, a shard index. Real models' are under 3 MB (CLIP's vocab.json: 1 MB).
     */
    public static final long MAX_TEXT_BYTES = 16L << 20;

    private InputFiles() {
    }

    /**
     * What keeps {@code file} from being read as a regular file ({@code "no such file"}, {@code "a directory"},
     * {@code "a FIFO, device or socket"}), or null when it is one.
     */
    public static String problem(Path file) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return "no such file";
        } catch (IOException | SecurityException e) {
            return "cannot be read (" + Messages.value(e instanceof IOException io ? IoErrors.reason(io) : e.getMessage()) + ")";
        }
        if (a.isRegularFile()) {
            return null;
        }
        return a.isDirectory() ? "is a directory, not a file"
                : "is a FIFO, device or socket, not a regular file; unetlens reads only regular files";
    }

    /** Fails with one line naming {@code file} unless it is a regular file. */
    public static void requireRegular(Path file) {
        String problem = problem(file);
        if (problem != null) {
            throw new UnetlensException(file + ": " + problem);
        }
    }

    /** The bytes of a regular file of at most {@code maxBytes} bytes, checked before anything is read. */
    public static byte[] readBytes(Path file, long maxBytes) {
        requireRegular(file);
        try {
            long size = Files.size(file);
            if (size > maxBytes) {
                throw tooLarge(file, size, maxBytes);
            }
            try (InputStream in = Files.newInputStream(file)) {
                byte[] bytes = in.readNBytes((int) Math.min(maxBytes + 1, Integer.MAX_VALUE - 8));
                if (bytes.length > maxBytes) {   // it grew, or its size is not what stat says (/proc)
                    throw tooLarge(file, bytes.length, maxBytes);
                }
                return bytes;
            }
        } catch (IOException e) {
            throw new UnetlensException(file + ": cannot read (" + Messages.value(IoErrors.reason(e)) + ")", e);
        }
    }

    /** A regular text file of at most {@link #MAX_TEXT_BYTES}, which must be valid UTF-8 (as Python reads it). */
    public static String readText(Path file) {
        byte[] bytes = readBytes(file, MAX_TEXT_BYTES);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new UnetlensException(file + ": not UTF-8 text (" + Messages.value(e.getMessage()) + ")", e);
        }
    }

    private static UnetlensException tooLarge(Path file, long size, long max) {
        return new UnetlensException(file + ": " + size + " bytes is more than the " + max
                + " that a file of this kind may hold; is it the right file?");
    }
}
