package dev.unetlens.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * An array as numpy stores it: element type, shape (row-major, C order) and little-endian bytes.
 *
 * @param dtype element type
 * @param shape dimensions; empty for a 0-dim scalar
 * @param data  {@code product(shape) * dtype.size()} bytes, little-endian, read from position 0
 */
public record NpyArray(DType dtype, long[] shape, ByteBuffer data) {

    public NpyArray {
        shape = shape.clone();
        long bytes = Math.multiplyExact(elementCount(shape), dtype.size());
        if (bytes != data.remaining()) {
            throw new IllegalArgumentException("npy: shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + bytes + " bytes, got " + data.remaining());
        }
        data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Number of elements of a shape (1 for a scalar), with overflow checks. */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long size() {
        return elementCount(shape);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The bytes, as a fresh view (position 0, little-endian) that the caller may move freely. */
    @Override
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Equal when dtype, shape and bytes are equal (records compare arrays by identity). */
    @Override
    public boolean equals(Object o) {
        return o instanceof NpyArray a && dtype == a.dtype && Arrays.equals(shape, a.shape) && data.equals(a.data);
    }

    @Override
    public int hashCode() {
        return (dtype.hashCode() * 31 + Arrays.hashCode(shape)) * 31 + data.hashCode();
    }

    @Override
    public String toString() {
        return "NpyArray[" + dtype + Arrays.toString(shape) + "]";
    }

    public static NpyArray ofFloats(long[] shape, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new NpyArray(DType.F32, shape, b);
    }

    public static NpyArray ofLongs(long[] shape, long[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return new NpyArray(DType.I64, shape, b);
    }

    public static NpyArray ofBytes(DType dtype, long[] shape, byte[] values) {
        return new NpyArray(dtype, shape, ByteBuffer.wrap(values));
    }

    /** The values widened or converted to float32 (all numeric types). */
    public float[] toFloats() {
        int n = Math.toIntExact(size());
        float[] out = new float[n];
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(out);
            case F64 -> { for (int i = 0; i < n; i++) out[i] = (float) b.getDouble(i * 8); }
            case F16 -> { for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(b.getShort(i * 2)); }
            case BF16 -> { for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((b.getShort(i * 2) & 0xffff) << 16); }
            case U64 -> { for (int i = 0; i < n; i++) out[i] = (float) unsignedToDouble(b.getLong(i * 8)); }
            default -> {
                long[] l = toLongs();
                for (int i = 0; i < n; i++) out[i] = l[i];
            }
        }
        return out;
    }

    /** The values as float64 (all numeric types). */
    public double[] toDoubles() {
        if (dtype == DType.F64) {
            double[] out = new double[Math.toIntExact(size())];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(out);
            return out;
        }
        if (dtype.isFloat()) {
            float[] f = toFloats();
            double[] out = new double[f.length];
            for (int i = 0; i < f.length; i++) out[i] = f[i];
            return out;
        }
        long[] l = toLongs();
        double[] out = new double[l.length];
        for (int i = 0; i < l.length; i++) out[i] = dtype == DType.U64 ? unsignedToDouble(l[i]) : l[i];
        return out;
    }

    /** A uint64 bit pattern as the nearest double. */
    private static double unsignedToDouble(long bits) {
        return bits >= 0 ? bits : ((bits >>> 1) | (bits & 1)) * 2.0;
    }

    /** Integer and boolean types as int64 (uint64 as its bit pattern); float types are refused. */
    public long[] toLongs() {
        int n = Math.toIntExact(size());
        long[] out = new long[n];
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case I64, U64 -> b.asLongBuffer().get(out);
            case I32 -> { for (int i = 0; i < n; i++) out[i] = b.getInt(i * 4); }
            case U32 -> { for (int i = 0; i < n; i++) out[i] = b.getInt(i * 4) & 0xffffffffL; }
            case I16 -> { for (int i = 0; i < n; i++) out[i] = b.getShort(i * 2); }
            case U16 -> { for (int i = 0; i < n; i++) out[i] = b.getShort(i * 2) & 0xffff; }
            case I8 -> { for (int i = 0; i < n; i++) out[i] = b.get(i); }
            case U8, BOOL -> { for (int i = 0; i < n; i++) out[i] = b.get(i) & 0xff; }
            default -> throw new IllegalStateException("npy: " + dtype + " is not an integer type");
        }
        return out;
    }
}
