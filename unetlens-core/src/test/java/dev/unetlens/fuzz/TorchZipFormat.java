package dev.unetlens.fuzz;

import dev.unetlens.io.ldm.LdmFamily;
import dev.unetlens.io.pickle.TorchZipWriter;
import dev.unetlens.io.pickle.TorchZipWriter.Tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A micro checkpoint in {@code torch.save}'s zip layout with its zip structure broken: truncated anywhere, bytes
 * edited in the central directory, the end record, a local header, a storage or the pickle (a CRC-32 mismatch), a
 * field of any header set to a hostile value (sizes, offsets, counts, name and extra lengths, flags, methods), a forged
 * ZIP64 locator, garbage before or after the archive, two entries of one name, and archives rebuilt with entries
 * compressed, missing, renamed, outside the folder, doubled data.pkl, TorchScript entries or a big-endian byteorder.
 * Loaded as a single-file checkpoint.
 */
final class TorchZipFormat implements FuzzFormat {
    private static final int LOCAL = 0x04034b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int END = 0x06054b50;
    /** (offset, width) of the fields of a central header, a local header, the end record. */
    private static final int[][] CENTRAL_FIELDS = {{8, 2}, {10, 2}, {16, 4}, {20, 4}, {24, 4}, {28, 2}, {30, 2}, {32, 2}, {34, 2}, {42, 4}};
    private static final int[][] LOCAL_FIELDS = {{6, 2}, {8, 2}, {14, 4}, {18, 4}, {22, 4}, {26, 2}, {28, 2}};
    private static final int[][] END_FIELDS = {{4, 2}, {6, 2}, {8, 2}, {10, 2}, {12, 4}, {16, 4}, {20, 2}};

    private final MicroModel micro;

    TorchZipFormat(MicroModel micro) {
        this.micro = micro;
    }

    @Override
    public String name() {
        return "torch-zip";
    }

    @Override
    public int weight() {
        return 8;
    }

    @Override
    public FuzzCase make(SplittableRandom rnd, Path dir) throws IOException {
        LdmFamily family = Mutations.pick(rnd, List.of(LdmFamily.SD1, LdmFamily.SD1, LdmFamily.SD2, LdmFamily.SDXL));
        Map<String, Tensor> tensors = TorchFiles.tensors(micro.singleFiles.get(family));
        StringBuilder note = new StringBuilder(family.label()).append(": ");
        byte[] valid = TorchZipWriter.write("archive", tensors, true);
        byte[] bytes = switch (rnd.nextInt(10)) {
            case 0 -> {
                int n = rnd.nextBoolean() ? rnd.nextInt(valid.length) : valid.length - 1 - rnd.nextInt(Math.min(200, valid.length));
                note.append("truncate to ").append(n).append(" of ").append(valid.length).append(" bytes");
                yield Mutations.truncate(valid, n);
            }
            case 1, 2 -> byteEdit(valid, rnd, note);
            case 3, 4, 5 -> fieldEdit(valid, rnd, note);
            case 6 -> around(valid, rnd, note);
            default -> rebuilt(tensors, rnd, note);
        };
        Path file = Files.write(dir.resolve(rnd.nextInt(4) == 0 ? "model.pt" : "model.ckpt"), bytes);
        return new FuzzCase(note.toString(), List.of(file), () -> SingleFileFormat.load(file));
    }

    /** Offsets of every record with signature {@code sig}. */
    private static List<Integer> records(byte[] b, int sig) {
        List<Integer> out = new ArrayList<>();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 4 <= b.length; i++) {
            if (bb.getInt(i) == sig) {
                out.add(i);
            }
        }
        return out;
    }

    private static byte[] byteEdit(byte[] valid, SplittableRandom rnd, StringBuilder note) {
        List<Integer> locals = records(valid, LOCAL);
        int central = records(valid, CENTRAL).getFirst();
        int end = records(valid, END).getLast();
        return switch (rnd.nextInt(5)) {
            case 0 -> Mutations.byteEdit(rnd, valid, central, end, note.append("central directory: "));
            case 1 -> Mutations.byteEdit(rnd, valid, end, valid.length, note.append("end record: "));
            case 2 -> {
                int at = Mutations.pick(rnd, locals);
                yield Mutations.byteEdit(rnd, valid, at, at + 30, note.append("local header at ").append(at).append(": "));
            }
            case 3 -> {
                int at = locals.getFirst();   // data.pkl
                yield Mutations.byteEdit(rnd, valid, at + 46, locals.get(1), note.append("data.pkl: "));
            }
            default -> {
                int i = 1 + rnd.nextInt(locals.size() - 2);
                int at = locals.get(i);
                yield Mutations.byteEdit(rnd, valid, at + 30, locals.get(i + 1), note.append("storage ").append(i - 1).append(": "));
            }
        };
    }

    private static byte[] fieldEdit(byte[] valid, SplittableRandom rnd, StringBuilder note) {
        byte[] b = valid.clone();
        int kind = rnd.nextInt(3);
        List<Integer> at = records(b, kind == 0 ? CENTRAL : kind == 1 ? LOCAL : END);
        int record = kind == 2 ? at.getLast() : Mutations.pick(rnd, at);
        int[] field = Mutations.pick(rnd, List.of(kind == 0 ? CENTRAL_FIELDS : kind == 1 ? LOCAL_FIELDS : END_FIELDS));
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long old = field[1] == 2 ? bb.getShort(record + field[0]) & 0xffff : bb.getInt(record + field[0]) & 0xffffffffL;
        long max = field[1] == 2 ? 0xffff : 0xffffffffL;
        long value = Mutations.pick(rnd, List.of(0L, 1L, max, max - 1, old + 1, old - 1, old * 2, old + 30, old - 30,
                rnd.nextLong(max + 1))) & max;
        if (field[1] == 2) {
            bb.putShort(record + field[0], (short) value);
        } else {
            bb.putInt(record + field[0], (int) value);
        }
        note.append(List.of("central", "local", "end").get(kind)).append(" record at ").append(record).append(": field +")
                .append(field[0]).append(" ").append(old).append(" -> ").append(value);
        return b;
    }

    /** Garbage before or after the archive, or a forged ZIP64 locator in front of the end record. */
    private static byte[] around(byte[] valid, SplittableRandom rnd, StringBuilder note) {
        byte[] junk = new byte[1 + rnd.nextInt(100)];
        rnd.nextBytes(junk);
        switch (rnd.nextInt(3)) {
            case 0 -> {
                note.append(junk.length).append(" bytes before the archive");
                return Mutations.splice(valid, 0, 0, junk);
            }
            case 1 -> {
                note.append(junk.length).append(" bytes after the archive");
                return Mutations.splice(valid, valid.length, 0, junk);
            }
            default -> {
                int end = records(valid, END).getLast();
                long target = Mutations.pick(rnd, List.of(0L, (long) end - 56, -1L, Long.MAX_VALUE, rnd.nextLong(valid.length)));
                ByteBuffer locator = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN)
                        .putInt(0x07064b50).putInt(0).putLong(target).putInt(1);
                note.append("a ZIP64 locator pointing at ").append(target);
                byte[] out = Mutations.splice(valid, end, 0, locator.array());
                if (rnd.nextBoolean()) {
                    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putInt(end + 20 + 16, -1);
                    note.append(", central directory offset 0xFFFFFFFF");
                }
                return out;
            }
        }
    }

    /** The archive written again with one entry changed. */
    private static byte[] rebuilt(Map<String, Tensor> tensors, SplittableRandom rnd, StringBuilder note) throws IOException {
        List<Object[]> entries = new ArrayList<>();   // name, bytes, compressed
        entries.add(new Object[] {"archive/data.pkl", TorchZipWriter.pickle(tensors, true), false});
        int key = 0;
        for (Tensor t : tensors.values()) {
            entries.add(new Object[] {"archive/data/" + key++, t.data(), false});
        }
        entries.add(new Object[] {"archive/version", "3\n".getBytes(StandardCharsets.US_ASCII), false});
        int i = 1 + rnd.nextInt(entries.size() - 2);
        String how = Mutations.pick(rnd, List.of("compress data.pkl", "compress a storage", "drop a storage",
                "rename a storage", "move out of the folder", "second data.pkl", "TorchScript code", "constants.pkl",
                "byteorder big", "byteorder little", "hidden entry", "duplicate name", "empty archive", "no data.pkl",
                "nested folder", "reverse order"));
        note.append(how);
        switch (how) {
            case "compress data.pkl" -> entries.getFirst()[2] = true;
            case "compress a storage" -> entries.get(i)[2] = true;
            case "drop a storage" -> entries.remove(i);
            case "rename a storage" -> entries.get(i)[0] = "archive/data/" + Mutations.pick(rnd, List.of("x", "-1", "00", "../0", "0/1"));
            case "move out of the folder" -> entries.get(i)[0] = "other/data/" + (i - 1);
            case "second data.pkl" -> entries.add(new Object[] {"other/data.pkl", entries.getFirst()[1], false});
            case "TorchScript code" -> entries.add(new Object[] {"archive/code/__torch__/m.py", "def f(): pass\n".getBytes(StandardCharsets.US_ASCII), false});
            case "constants.pkl" -> entries.add(new Object[] {"archive/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'}, false});
            case "byteorder big" -> entries.add(new Object[] {"archive/byteorder", "big".getBytes(StandardCharsets.US_ASCII), false});
            case "byteorder little" -> entries.add(new Object[] {"archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII), false});
            case "hidden entry" -> entries.add(new Object[] {"archive/.data/serialization_id", "1234".getBytes(StandardCharsets.US_ASCII), false});
            case "duplicate name" -> {
                return duplicate(zip(entries), i);
            }
            case "empty archive" -> entries.clear();
            case "no data.pkl" -> entries.removeFirst();
            case "nested folder" -> entries.replaceAll(e -> new Object[] {"a/" + e[0], e[1], e[2]});
            default -> java.util.Collections.reverse(entries);
        }
        return zip(entries);
    }

    private static byte[] zip(List<Object[]> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Object[] e : entries) {
                byte[] data = (byte[]) e[1];
                ZipEntry z = new ZipEntry((String) e[0]);
                if (!(Boolean) e[2]) {
                    z.setMethod(ZipEntry.STORED);
                    z.setSize(data.length);
                    z.setCompressedSize(data.length);
                    CRC32 crc = new CRC32();
                    crc.update(data);
                    z.setCrc(crc.getValue());
                }
                zip.putNextEntry(z);
                zip.write(data);
                zip.closeEntry();
            }
        }
        return out.toByteArray();
    }

    /** Entry {@code i}'s name made equal to entry {@code i+1}'s (same length), in its local and central headers. */
    private static byte[] duplicate(byte[] b, int i) {
        byte[] out = b.clone();
        for (int sig : new int[] {LOCAL, CENTRAL}) {
            List<Integer> at = records(out, sig);
            int from = at.get(i) + (sig == LOCAL ? 30 : 46);
            int to = at.get(i + 1) + (sig == LOCAL ? 30 : 46);
            int n = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).getShort(at.get(i) + (sig == LOCAL ? 26 : 28));
            int m = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).getShort(at.get(i + 1) + (sig == LOCAL ? 26 : 28));
            if (n == m) {
                System.arraycopy(out, to, out, from, n);
            }
        }
        return out;
    }
}
