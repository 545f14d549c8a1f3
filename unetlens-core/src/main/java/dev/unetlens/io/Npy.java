package dev.unetlens.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Reads and writes numpy's {@code .npy} format (versions 1.0, 2.0 and 3.0, C order, little-endian) and
 * {@code .npz} archives, written to the format description in numpy's {@code lib/format.py}.
 *
 * <p>Hand-written: the format is a 10-line header and raw bytes, and no maintained Java library reads it without
 * pulling in a numerics stack.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    /** numpy's spare room for the first dimension's digits ({@code lib/format.py}). */
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;

    private Npy() {
    }

    /** Reads a regular {@code .npy} file (a Java array holds at most 2 GiB). */
    public static NpyArray read(Path file) {
        return parse(ByteBuffer.wrap(InputFiles.readBytes(file, Integer.MAX_VALUE - 8)), file.toString());
    }

    /** Parses one {@code .npy} image; {@code where} names it in errors. */
    public static NpyArray parse(ByteBuffer buf, String where) {
        Header h = header(buf, where);
        long bytes = h.dataBytes();
        long have = buf.remaining() - h.dataOffset();
        if (bytes > have) {
            throw new NpyException(where + ": truncated .npy data: need " + bytes + " bytes, have " + have);
        }
        ByteBuffer data = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN)
                .slice(buf.position() + (int) h.dataOffset(), (int) bytes);
        return new NpyArray(h.dtype(), h.shape(), data);
    }

    /**
     * What an {@code .npy} header says, without reading the data: for readers that map or page a large file.
     *
     * @param dtype      element type
     * @param shape      dimensions (C order)
     * @param dataOffset where the data starts, in bytes from the file's start
     */
    public record Header(DType dtype, long[] shape, long dataOffset) {
        public Header {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** The data's length in bytes. */
        public long dataBytes() {
            return NpyArray.elementCount(shape) * dtype.size();
        }
    }

    /**
     * Parses the header at the start of {@code prefix} (the file's first bytes: at least the header, which numpy
     * keeps under 64 KiB for any sane shape); the data need not follow.
     */
    public static Header header(ByteBuffer prefix, String where) {
        ByteBuffer b = prefix.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int start = b.position();
        if (b.remaining() < 10) {
            throw new NpyException(where + ": not an .npy file (only " + b.remaining() + " bytes)");
        }
        for (byte m : MAGIC) {
            if (b.get() != m) {
                throw new NpyException(where + ": not an .npy file (bad magic)");
            }
        }
        int major = b.get() & 0xff;
        b.get(); // minor
        long headerLen;
        if (major == 1) {
            headerLen = b.getShort() & 0xffff;
        } else if (major == 2 || major == 3) {
            headerLen = b.getInt() & 0xffffffffL;
        } else {
            throw new NpyException(where + ": unsupported .npy version " + major);
        }
        if (headerLen > b.remaining()) {
            throw new NpyException(where + ": truncated .npy header");
        }
        byte[] hb = new byte[(int) headerLen];
        b.get(hb);
        String header = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            throw new NpyException(where + ": malformed .npy header: " + header.strip());
        }
        if (f.group(1).equals("True")) {
            throw new NpyException(where + ": Fortran-ordered .npy arrays are not supported; save with order='C'");
        }
        DType dtype = DType.fromNumpy(d.group(1)).orElseThrow(() ->
                new NpyException(where + ": unsupported .npy dtype '" + d.group(1)
                        + "' (little-endian numeric or bool only)"));
        long[] shape = parseShape(s.group(1), where);
        try {
            Math.multiplyExact(NpyArray.elementCount(shape), dtype.size());
        } catch (ArithmeticException e) {
            throw new NpyException(where + ": .npy shape " + Arrays.toString(shape) + " overflows 64 bits");
        }
        return new Header(dtype, shape, b.position() - start);
    }

    /** The dimensions of a shape tuple's inside ({@code "2, 3"}, {@code "5,"}, {@code ""}). */
    private static long[] parseShape(String tuple, String where) {
        List<Long> dims = new ArrayList<>();
        for (String part : tuple.split(",", -1)) {
            if (part.isBlank()) {
                continue;
            }
            long d;
            try {
                d = Long.parseLong(part.strip());
            } catch (NumberFormatException e) {
                throw new NpyException(where + ": .npy shape (" + tuple + ") has a non-integer dimension");
            }
            if (d < 0) {
                throw new NpyException(where + ": .npy shape (" + tuple + ") has a negative dimension");
            }
            dims.add(d);
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    /** The complete {@code .npy} file image, byte for byte what {@code numpy.save} writes for the same array. */
    public static byte[] toBytes(NpyArray a) {
        byte[] header = header(a);
        return ByteBuffer.allocate(Math.addExact(header.length, a.data().remaining()))
                .put(header).put(a.data().duplicate()).array();
    }

    /**
     * Magic, version and header as numpy's {@code _write_array_header} makes them: the dict
     * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}, 21 minus the digits of the first
     * dimension spare spaces (room to grow that axis in place), then 1 to 64 spaces and a newline so that the data
     * starts at a multiple of 64 bytes. Version 1.0 (2-byte header length) unless the header needs 2.0 (4 bytes).
     */
    static byte[] header(NpyArray a) {
        return header(a.dtype(), a.shape());
    }

    /** The header of an array of {@code dtype} and {@code shape}, for writing the data after it separately. */
    public static byte[] header(DType dtype, long[] sh) {
        String descr = dtype.numpyDescr().orElseThrow(() ->
                new NpyException("numpy has no dtype for " + dtype + "; convert to F32 first"));
        StringBuilder shape = new StringBuilder("(");
        for (int i = 0; i < sh.length; i++) {
            shape.append(i > 0 ? ", " : "").append(sh[i]);
        }
        shape.append(sh.length == 1 ? ",)" : ")");
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }"
                + (sh.length > 0 ? " ".repeat(GROWTH_AXIS_MAX_DIGITS - Long.toString(sh[0]).length()) : "");
        int version = 1;
        int prefix = MAGIC.length + 2 + 2;   // magic, version, u16 header length
        int headerLen = paddedLength(prefix, dict.length());
        if (headerLen > 0xffff) {
            version = 2;
            prefix += 2;                      // u32 header length
            headerLen = paddedLength(prefix, dict.length());
        }
        ByteBuffer out = ByteBuffer.allocate(prefix + headerLen).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) version).put((byte) 0);
        if (version == 1) {
            out.putShort((short) headerLen);
        } else {
            out.putInt(headerLen);
        }
        String padding = " ".repeat(headerLen - dict.length() - 1);
        out.put((dict + padding + "\n").getBytes(StandardCharsets.ISO_8859_1));
        return out.array();
    }

    /** Header length after numpy's padding: dict, 1 to 64 spaces, newline, ending on a multiple of 64. */
    private static int paddedLength(int prefix, int dictLength) {
        int unpadded = dictLength + 1;
        return unpadded + 64 - (prefix + unpadded) % 64;
    }

    /** Writes one array to {@code file} atomically, streaming its data. */
    public static void write(Path file, NpyArray a) {
        byte[] header = header(a);
        AtomicFiles.write(file, out -> {
            out.write(header);
            writeData(out, a.data());
        });
    }

    private static void writeData(OutputStream out, ByteBuffer data) throws IOException {
        ByteBuffer d = data.duplicate();
        byte[] chunk = new byte[Math.min(1 << 16, d.remaining())];
        while (d.hasRemaining()) {
            int n = Math.min(chunk.length, d.remaining());
            d.get(chunk, 0, n);
            out.write(chunk, 0, n);
        }
    }

    /** Reads every array of an {@code .npz} archive (name without {@code .npy} → array), in archive order. */
    public static Map<String, NpyArray> readNpz(Path file) {
        Map<String, NpyArray> out = new LinkedHashMap<>();
        InputFiles.requireRegular(file);
        try (InputStream in = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(in)) {
            ZipEntry e;
            while ((e = zip.getNextEntry()) != null) {
                String name = e.getName().endsWith(".npy")
                        ? e.getName().substring(0, e.getName().length() - 4) : e.getName();
                out.put(name, parse(ByteBuffer.wrap(zip.readAllBytes()), file + "!" + e.getName()));
            }
        } catch (IOException e) {
            throw new NpyException(file + ": cannot read .npz (" + IoErrors.reason(e) + ")", e);
        }
        return out;
    }

    /** Writes arrays into an {@code .npz} archive (stored, uncompressed, as {@code numpy.savez}), atomically. */
    public static void writeNpz(Path file, Map<String, NpyArray> arrays) {
        AtomicFiles.write(file, out -> writeNpz(out, arrays));
    }

    /** Writes arrays as an {@code .npz} archive (stored, uncompressed, as {@code numpy.savez}) to a stream. */
    public static void writeNpz(OutputStream out, Map<String, NpyArray> arrays) throws IOException {
        ZipOutputStream zip = new ZipOutputStream(out);
        for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
            byte[] npy = toBytes(e.getValue());
            CRC32 crc = new CRC32();
            crc.update(npy);
            ZipEntry entry = new ZipEntry(e.getKey() + ".npy");
            entry.setMethod(ZipEntry.STORED);
            entry.setSize(npy.length);
            entry.setCompressedSize(npy.length);
            entry.setCrc(crc.getValue());
            zip.putNextEntry(entry);
            zip.write(npy);
            zip.closeEntry();
        }
        zip.finish();
    }

    /** A malformed or unsupported numpy file. */
    public static final class NpyException extends dev.unetlens.UnetlensException {
        public NpyException(String message) {
            super(message);
        }

        public NpyException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
