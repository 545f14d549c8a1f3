package dev.unetlens.io;

import dev.unetlens.io.SafetensorsException.Rule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Files over 2 GiB, made sparse with {@code RandomAccessFile.setLength} so they cost no disk: they open without
 * reading the data section, and bytes at the end, at unaligned offsets, read back through the mapping.
 */
class SafetensorsLargeFileTest {
    private static final long GIB = 1L << 30;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    /** A sparse file: header, then {@code dataBytes} of holes, with {@code tail} written at the very end. */
    private Path sparse(String name, String header, long dataBytes, byte[] tail) throws IOException {
        Path f = dir.resolve(name);
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.write(Raw.le64(h.length));
            raf.write(h);
            raf.setLength(8 + h.length + dataBytes);
            raf.seek(8 + h.length + dataBytes - tail.length);
            raf.write(tail);
        }
        return f;
    }

    private static byte[] le(long v) {
        return Raw.le64(v);
    }

    @Test
    void threeGibTensorOpensWithoutReadingItAndReadsItsLastBytes() throws IOException {
        long size = 3 * GIB;
        Path f = sparse("3g.safetensors", "{\"big\":{\"dtype\":\"U8\",\"shape\":[" + size + "],\"data_offsets\":[0,"
                + size + "]}}", size, le(0x0123456789abcdefL));
        assertThat(Files.size(f)).isGreaterThan(size);
        long before = ProcIo.readBytes();
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertThat(ProcIo.readBytes() - before).as("bytes read while opening").isLessThan(64L << 20);
            MemorySegment big = st.data("big");
            assertThat(big.byteSize()).isEqualTo(size);
            assertThat(big.get(I64, size - 8)).isEqualTo(0x0123456789abcdefL);
            assertThat(big.get(ValueLayout.JAVA_BYTE, size / 2)).isZero();
        }
    }

    @Test
    void headerClaimingMoreThanTheFileHoldsIsRejected() throws IOException {
        long size = 3 * GIB;
        Path f = sparse("short.safetensors", "{\"big\":{\"dtype\":\"U8\",\"shape\":[" + (size + 1)
                + "],\"data_offsets\":[0," + (size + 1) + "]}}", size, new byte[1]);
        Throwable t = catchThrowable(() -> SafetensorsFile.open(f).close());
        assertThat(t).isExactlyInstanceOf(SafetensorsException.class);
        assertThat(((SafetensorsException) t).rule()).isEqualTo(Rule.DATA_NOT_COVERED);
        assertThat(t.getMessage()).contains("need " + (size + 1) + " data bytes but the file holds " + size);
    }

    @Test
    void unalignedTensorsPast2GibReadBack() throws IOException {
        long pad = 2 * GIB + 3;   // an odd-sized U8 first, so the F32 and F64 after it sit at odd offsets
        String header = "{\"pad\":{\"dtype\":\"U8\",\"shape\":[" + pad + "],\"data_offsets\":[0," + pad + "]},"
                + "\"f\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + pad + "," + (pad + 8) + "]},"
                + "\"i\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[" + (pad + 8) + "," + (pad + 16) + "]}}";
        byte[] tail = new byte[16];
        MemorySegment t = MemorySegment.ofArray(tail);
        t.set(F32, 0, 1.25f);
        t.set(F32, 4, -3e7f);
        t.set(I64, 8, Long.MIN_VALUE + 5);
        Path f = sparse("unaligned.safetensors", header, pad + 16, tail);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            MemorySegment floats = st.data("f");
            assertThat(floats.address() % 4).isNotZero();
            assertThat(floats.toArray(F32)).containsExactly(1.25f, -3e7f);
            float[] copied = new float[2];
            MemorySegment.copy(floats, F32, 0, copied, 0, 2);
            assertThat(copied).containsExactly(1.25f, -3e7f);
            assertThat(floats.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat(4)).isEqualTo(-3e7f);
            assertThat(st.data("i").get(I64, 0)).isEqualTo(Long.MIN_VALUE + 5);
            assertThat(st.names()).containsExactly("pad", "f", "i");
        }
    }
}
