package dev.unetlens.convert;

import dev.unetlens.io.DType;
import dev.unetlens.io.Segments;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Element-type conversions of stored tensors, as PyTorch rounds them: float32 → float16 and → bfloat16 round to
 * nearest, ties to even ({@code tensor.half()}: {@link Float#floatToFloat16}; {@code tensor.bfloat16()}: c10's
 * {@code round_to_nearest_even}, NaN → {@code 0x7FC0}); float64 → float32 rounds the same way; the reverse widenings
 * are exact. Half ↔ bfloat16 go through float32, as in PyTorch. Only floating tensors convert: integer and boolean
 * ones (position ids, step counters) keep their type.
 */
public final class Casts {
    private static final int CHUNK = 1 << 16;   // elements per block
    private static final ValueLayout.OfFloat LE_F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble LE_F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** One block buffer per thread: a model streams a thousand tensors, and a buffer each would swell the heap. */
    private static final ThreadLocal<ByteBuffer> BLOCK = ThreadLocal.withInitial(
            () -> ByteBuffer.allocate(CHUNK * 8).order(ByteOrder.LITTLE_ENDIAN));

    private Casts() {
    }

    /** The type a tensor stored as {@code stored} is written as when converting to {@code to} (null: keep). */
    public static DType target(DType stored, DType to) {
        return to == null || !stored.isFloat() ? stored : to;
    }

    /** Writes the {@code from} elements of {@code src} as {@code to} elements, little-endian, block by block. */
    public static void write(MemorySegment src, DType from, DType to, OutputStream out) throws IOException {
        if (from == to) {
            Segments.copy(src, out);
            return;
        }
        long n = src.byteSize() / from.size();
        ByteBuffer block = BLOCK.get();
        for (long i = 0; i < n; ) {
            block.clear();
            long start = i;
            long end = Math.min(n, i + CHUNK);
            for (; i < end; i++) {
                double v = read(src, from, i);
                switch (to) {
                    case F32 -> block.putFloat((float) v);
                    case F64 -> block.putDouble(v);
                    case F16 -> block.putShort(Float.floatToFloat16((float) v));
                    case BF16 -> block.putShort(bfloat16((float) v));
                    default -> throw new IllegalArgumentException("not a floating type: " + to);
                }
            }
            out.write(block.array(), 0, block.position());
            Segments.release(src, start * from.size(), (end - start) * from.size());
        }
    }

    private static double read(MemorySegment s, DType d, long i) {
        return switch (d) {
            case F32 -> s.get(LE_F32, 4 * i);
            case F64 -> s.get(LE_F64, 8 * i);
            case F16 -> Float.float16ToFloat(s.get(LE_I16, 2 * i));
            case BF16 -> Float.intBitsToFloat((s.get(LE_I16, 2 * i) & 0xffff) << 16);
            default -> throw new IllegalArgumentException("not a floating type: " + d);
        };
    }

    /** c10::BFloat16's round_to_nearest_even. */
    public static short bfloat16(float f) {
        if (Float.isNaN(f)) {
            return 0x7FC0;
        }
        int bits = Float.floatToRawIntBits(f);
        int bias = ((bits >>> 16) & 1) + 0x7FFF;
        return (short) ((bits + bias) >>> 16);
    }
}
