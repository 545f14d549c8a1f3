package dev.unetlens.io.pickle;

import dev.unetlens.Messages;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The central directory of a zip archive held in memory (a mapped file), read as APPNOTE.TXT defines it, with the
 * ZIP64 records that archives over 4 GiB need: the end-of-central-directory record (the last one whose comment ends
 * exactly at the end of the file), the ZIP64 locator and record when present, then each central header and the
 * local header it points to. Checked: every record lies inside the file, the central directory lies after the
 * entries, names are unique, entries do not overlap, no entry is encrypted, and each local header agrees with its
 * central one on the name. The CRC-32 of an entry is checked by {@link #verify} when its bytes are used.
 *
 * <p>Written against {@code java.lang.foreign} rather than {@code java.util.zip.ZipFile} because the storages must
 * stay where they are, memory-mapped, at their exact byte ranges, and because {@code ZipFile} reads entries through
 * streams and its own native-free parser accepts what this must check itself (overlaps, local headers).
 */
final class ZipDirectory {
    private static final int LOCAL = 0x04034b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int END = 0x06054b50;
    private static final int END64 = 0x06064b50;
    private static final int LOCATOR64 = 0x07064b50;
    /** More entries than any checkpoint has (SD 1.5: about 1,100; with optimizer states a few thousand). */
    static final int MAX_ENTRIES = 1 << 20;

    /**
     * One entry.
     *
     * @param name   its name
     * @param method 0 stored, 8 deflated
     * @param crc    the CRC-32 the directory records
     * @param data   where its (possibly compressed) bytes start in the file
     * @param size   how many bytes it holds once decompressed
     * @param stored how many bytes it occupies in the file
     */
    record Entry(String name, int method, int crc, long data, long size, long stored) {
    }

    private final String file;
    private final MemorySegment bytes;
    private final Map<String, Entry> entries;

    private ZipDirectory(String file, MemorySegment bytes, Map<String, Entry> entries) {
        this.file = file;
        this.bytes = bytes;
        this.entries = entries;
    }

    /** Reads the directory of the archive in {@code bytes}; {@code file} names it in messages. */
    static ZipDirectory read(String file, MemorySegment bytes) {
        return new Reader(file, bytes).read();
    }

    /** Entries by name, in directory order. */
    Map<String, Entry> entries() {
        return entries;
    }

    /** The bytes of a stored entry, a slice of the mapping. */
    MemorySegment slice(Entry e) {
        return bytes.asSlice(e.data, e.stored);
    }

    /** Fails in one line unless {@code e}'s bytes have the CRC-32 its directory entry records. */
    void verify(Entry e) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        MemorySegment s = slice(e);
        for (long at = 0; at < s.byteSize(); at += 1 << 24) {
            MemorySegment block = s.asSlice(at, Math.min(1 << 24, s.byteSize() - at));
            crc.update(block.asByteBuffer());
            if (block.isMapped()) {
                block.unload();   // read once: keep it in the page cache, not in this process
            }
        }
        if ((int) crc.getValue() != e.crc) {
            throw new PickleException(file + ": zip entry " + Messages.quote(e.name) + " is damaged: its CRC-32 is "
                    + String.format("%08x", (int) crc.getValue()) + ", the directory records "
                    + String.format("%08x", e.crc));
        }
    }

    /** Reads the records; one instance per archive. */
    private static final class Reader {
        private final String file;
        private final MemorySegment b;
        private final long size;

        Reader(String file, MemorySegment b) {
            this.file = file;
            this.b = b;
            this.size = b.byteSize();
        }

        ZipDirectory read() {
            long end = findEnd();
            long entryCount = u16(end + 10);
            long cdSize = u32(end + 12);
            long cdOffset = u32(end + 16);
            long cdLimit = end;
            if (end >= 20 && i32(end - 20) == LOCATOR64) {
                long at = i64(end - 20 + 8);
                if (at < 0 || at > end - 20 - 56 || i32(at) != END64) {
                    throw bad("its ZIP64 locator points at no ZIP64 end record");
                }
                entryCount = i64(at + 32);
                cdSize = i64(at + 40);
                cdOffset = i64(at + 48);
                cdLimit = at;
            } else if (u16(end + 4) != 0 || u16(end + 6) != 0) {
                throw bad("it spans several disks");
            }
            if (cdOffset < 0 || cdSize < 0 || cdOffset > cdLimit || cdSize > cdLimit - cdOffset) {
                throw bad("its central directory [" + cdOffset + ", +" + cdSize + ") lies outside the file");
            }
            if (entryCount < 0 || entryCount > MAX_ENTRIES || entryCount > cdSize / 46) {
                throw bad("it announces " + entryCount + " entries in a " + cdSize + "-byte central directory");
            }
            return new ZipDirectory(file, b, entries(cdOffset, cdOffset + cdSize, (int) entryCount));
        }

        /** The end-of-central-directory record whose comment reaches exactly to the end of the file. */
        private long findEnd() {
            for (long at = size - 22; at >= Math.max(0, size - 22 - 65_535); at--) {
                if (i32(at) == END && at + 22 + u16(at + 20) == size) {
                    return at;
                }
            }
            throw bad("it has no end-of-central-directory record (truncated, or not a zip archive)");
        }

        private Map<String, Entry> entries(long from, long to, int count) {
            Map<String, Entry> out = new LinkedHashMap<>();
            List<long[]> spans = new ArrayList<>();   // [header, end of data]
            long at = from;
            for (int i = 0; i < count; i++) {
                if (at > to - 46 || i32(at) != CENTRAL) {
                    throw bad("central directory entry " + i + " at byte " + at + " is missing or damaged");
                }
                int flags = u16(at + 8);
                int method = u16(at + 10);
                int crc = i32(at + 16);
                long stored = u32(at + 20);
                long size = u32(at + 24);
                int nameLength = u16(at + 28);
                int extraLength = u16(at + 30);
                int commentLength = u16(at + 32);
                long local = u32(at + 42);
                long next = at + 46 + nameLength + extraLength + commentLength;
                if (next > to) {
                    throw bad("central directory entry " + i + " runs past the directory");
                }
                String name = new String(b.asSlice(at + 46, nameLength).toArray(ValueLayout.JAVA_BYTE),
                        (flags & 0x800) != 0 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
                long[] z64 = zip64(at + 46 + nameLength, extraLength, size, stored, local, name);
                size = z64[0];
                stored = z64[1];
                local = z64[2];
                if ((flags & 1) != 0) {
                    throw bad("entry " + Messages.quote(name) + " is encrypted");
                }
                if (method != 0 && method != 8) {
                    throw bad("entry " + Messages.quote(name) + " uses compression method " + method
                            + "; torch.save stores entries uncompressed");
                }
                if (method == 0 && stored != size) {
                    throw bad("stored entry " + Messages.quote(name) + " has " + stored + " bytes but unpacks to " + size);
                }
                long data = localData(local, name, stored, from);
                if (out.put(name, new Entry(name, method, crc, data, size, stored)) != null) {
                    throw bad("it holds two entries named " + Messages.quote(name));
                }
                spans.add(new long[] {local, data + stored});
                at = next;
            }
            spans.sort(Comparator.comparingLong(s -> s[0]));
            for (int i = 1; i < spans.size(); i++) {
                if (spans.get(i)[0] < spans.get(i - 1)[1]) {
                    throw bad("two of its entries overlap at byte " + spans.get(i)[0]);
                }
            }
            return out;
        }

        /** Sizes and offset from the ZIP64 extra field where the 32-bit ones say 0xFFFFFFFF. */
        private long[] zip64(long extra, int length, long size, long stored, long local, String name) {
            long[] out = {size, stored, local};
            long at = extra;
            long end = extra + length;
            while (at + 4 <= end) {
                int id = u16(at);
                int n = u16(at + 2);
                if (at + 4 + n > end) {
                    throw bad("entry " + Messages.quote(name) + " has a damaged extra field");
                }
                if (id == 1) {
                    long p = at + 4;
                    for (int k = 0; k < 3; k++) {
                        if (out[k] == 0xffffffffL) {
                            if (p + 8 > at + 4 + n) {
                                throw bad("entry " + Messages.quote(name) + " has a short ZIP64 extra field");
                            }
                            out[k] = i64(p);
                            p += 8;
                        }
                    }
                }
                at += 4 + n;
            }
            for (long v : out) {
                if (v < 0) {
                    throw bad("entry " + Messages.quote(name) + " has a size or offset past 2^63");
                }
            }
            return out;
        }

        /** Where an entry's data starts: after its local header, which must agree on the name and fit before the directory. */
        private long localData(long local, String name, long stored, long directory) {
            if (local > directory - 30 || i32(local) != LOCAL) {
                throw bad("entry " + Messages.quote(name) + " points at byte " + local + ", where no local header is");
            }
            int nameLength = u16(local + 26);
            long data = local + 30 + nameLength + u16(local + 28);
            if (data > directory || stored > directory - data) {
                throw bad("entry " + Messages.quote(name) + " runs past the start of the central directory");
            }
            byte[] localName = b.asSlice(local + 30, nameLength).toArray(ValueLayout.JAVA_BYTE);
            if (!java.util.Arrays.equals(localName, name.getBytes(StandardCharsets.UTF_8))
                    && !java.util.Arrays.equals(localName, name.getBytes(StandardCharsets.ISO_8859_1))) {
                throw bad("entry " + Messages.quote(name) + " has another name in its local header");
            }
            return data;
        }

        private int u16(long at) {
            return b.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at) & 0xffff;
        }

        private int i32(long at) {
            return b.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at);
        }

        private long u32(long at) {
            return i32(at) & 0xffffffffL;
        }

        private long i64(long at) {
            return b.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at);
        }

        private PickleException bad(String detail) {
            return new PickleException(file + ": a damaged zip archive: " + detail);
        }
    }
}
