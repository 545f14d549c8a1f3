package dev.unetlens.io.ldm;

import dev.unetlens.io.DType;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A tensor held in test memory: dtype, shape and little-endian bytes.
 *
 * @param dtype F32, F16 or BF16 (the floating types tests compare)
 * @param shape dimensions
 * @param data  the stored bytes
 */
record Blob(DType dtype, long[] shape, byte[] data) {
    /** Every tensor of a source, copied out. */
    static Map<String, Blob> readAll(TensorSource src) {
        Map<String, Blob> out = new LinkedHashMap<>();
        for (String name : src.names()) {
            TensorInfo t = src.info(name).orElseThrow();
            out.put(name, new Blob(t.dtype(), t.shape(), src.data(name).toArray(ValueLayout.JAVA_BYTE)));
        }
        return out;
    }

    /** The same bytes with another shape (a conv kernel seen as a matrix, or back). */
    Blob reshaped(long... newShape) {
        return new Blob(dtype, newShape, data);
    }

    /** Deterministic pseudo-random values of {@code shape}, stored as {@code dtype} (F32 or F16). */
    static Blob random(DType dtype, long[] shape, long seed) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * dtype.size())).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            float v = (float) rnd.nextGaussian();
            switch (dtype) {
                case F32 -> b.putFloat(v);
                case F16 -> b.putShort(Float.floatToFloat16(v));
                default -> throw new IllegalArgumentException(dtype.name());
            }
        }
        return new Blob(dtype, shape, b.array());
    }

    /** Values widened to float32 (F16 and BF16 exactly), as raw bits, for bit-exact comparisons. */
    static int[] float32Bits(DType dtype, MemorySegment data) {
        ByteBuffer b = data.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        int n = Math.toIntExact(data.byteSize() / dtype.size());
        int[] bits = new int[n];
        for (int i = 0; i < n; i++) {
            bits[i] = switch (dtype) {
                case F32 -> b.getInt(4 * i);
                case F16 -> Float.floatToRawIntBits(Float.float16ToFloat(b.getShort(2 * i)));
                case BF16 -> (b.getShort(2 * i) & 0xffff) << 16;
                default -> throw new IllegalArgumentException("not a float tensor: " + dtype);
            };
        }
        return bits;
    }

    int[] float32Bits() {
        return float32Bits(dtype, MemorySegment.ofArray(data));
    }
}
