package dev.unetlens.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    private Npy() {
    }

    public static NpyArray read(Path file) {
        try {
            return parse(ByteBuffer.wrap(Files.readAllBytes(file)), file.toString());
        } catch (IOException e) {
            throw new NpyException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Parses one {@code .npy} image; {@code where} names it in errors. */
    public static NpyArray parse(ByteBuffer buf, String where) {
        ByteBuffer b = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
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
                new NpyException(where + ": unsupported .npy dtype '" + d.group(1) + "' (little-endian numeric or bool only)"));
        List<Long> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            if (!part.isBlank()) {
                dims.add(Long.parseLong(part.strip()));
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long bytes = Math.multiplyExact(NpyArray.elementCount(shape), dtype.size());
        if (bytes > b.remaining()) {
            throw new NpyException(where + ": truncated .npy data: need " + bytes + " bytes, have " + b.remaining());
        }
        ByteBuffer data = b.slice(b.position(), (int) bytes);
        return new NpyArray(dtype, shape, data);
    }

    /** The complete {@code .npy} file image (version 1.0, header padded to a multiple of 64 bytes). */
    public static byte[] toBytes(NpyArray a) {
        String descr = a.dtype().numpyDescr().orElseThrow(() ->
                new NpyException("numpy has no dtype for " + a.dtype() + "; convert to F32 first"));
        StringBuilder shape = new StringBuilder("(");
        long[] sh = a.shape();
        for (int i = 0; i < sh.length; i++) {
            shape.append(sh[i]);
            if (sh.length == 1 || i < sh.length - 1) {
                shape.append(sh.length == 1 ? "," : ", ");
            }
        }
        shape.append(')');
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = MAGIC.length + 4 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        if (header.length() > 0xffff) {
            throw new NpyException("npy header too long");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(total + pad + a.data().remaining());
        out.writeBytes(MAGIC);
        out.write(1);
        out.write(0);
        out.write(header.length() & 0xff);
        out.write((header.length() >> 8) & 0xff);
        out.writeBytes(header.getBytes(StandardCharsets.ISO_8859_1));
        ByteBuffer d = a.data().duplicate();
        byte[] raw = new byte[d.remaining()];
        d.get(raw);
        out.writeBytes(raw);
        return out.toByteArray();
    }

    /** Writes one array to {@code file} atomically. */
    public static void write(Path file, NpyArray a) {
        AtomicFiles.write(file, out -> out.write(toBytes(a)));
    }

    /** Reads every array of an {@code .npz} archive (name without {@code .npy} → array), in archive order. */
    public static Map<String, NpyArray> readNpz(Path file) {
        Map<String, NpyArray> out = new LinkedHashMap<>();
        try (InputStream in = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(in)) {
            ZipEntry e;
            while ((e = zip.getNextEntry()) != null) {
                String name = e.getName().endsWith(".npy") ? e.getName().substring(0, e.getName().length() - 4) : e.getName();
                out.put(name, parse(ByteBuffer.wrap(zip.readAllBytes()), file + "!" + e.getName()));
            }
        } catch (IOException e) {
            throw new NpyException(file + ": cannot read .npz (" + e.getMessage() + ")", e);
        }
        return out;
    }

    /** Writes arrays into an {@code .npz} archive (stored, uncompressed, as {@code numpy.savez}), atomically. */
    public static void writeNpz(Path file, Map<String, NpyArray> arrays) {
        AtomicFiles.write(file, out -> writeNpz(out, arrays));
    }

    private static void writeNpz(OutputStream out, Map<String, NpyArray> arrays) throws IOException {
        ZipOutputStream zip = new ZipOutputStream(out);
        for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
            zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
            zip.write(toBytes(e.getValue()));
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
