package dev.unetlens.model.check;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Reads a few values of a large tensor without copying it: a view of a float32 tensor's native memory
 * ({@code toByteBuffer(true)}, under a microsecond) with the strides of its layout. Checks read a few hundred values
 * of maps of many megabytes on every call. Two layouts are read in place: row-major (contiguous) and, for 4-D
 * tensors, channels-last (NHWC memory behind NCHW indices) — the layout libtorch propagates through a U-Net once a
 * transformer's output is permuted back to a map, so that most of its convolutions see it. DJL's public API cannot
 * say whether a tensor is contiguous, and asking for the direct buffer of one that is not makes a full hidden copy;
 * so contiguity is asked of DJL's own native binding ({@code PyTorchLibrary.torchIsContiguous}, package-private in
 * the pinned DJL 0.35.1), looked up once, and channels-last is recognised by the NHWC permutation being contiguous.
 * Where the lookup fails (another DJL) or the layout is neither, {@link #of} answers null and callers gather.
 *
 * @param data    the tensor's memory, in float elements
 * @param dims    the logical shape
 * @param strides the element stride of each logical axis
 */
record NativeView(FloatBuffer data, long[] dims, long[] strides) {
    private static final MethodHandle IS_CONTIGUOUS = isContiguous();

    /** A view of {@code a}, or null (another layout, not float32, no binding). */
    static NativeView of(NDArray a) {
        if (IS_CONTIGUOUS == null || a.getDataType() != DataType.FLOAT32 || !(a instanceof ai.djl.pytorch.engine.PtNDArray)) {
            return null;
        }
        long[] dims = a.getShape().getShape();
        if (contiguous(a)) {
            return new NativeView(buffer(a), dims, rowMajor(dims));
        }
        if (dims.length == 4) {
            try (NDArray nhwc = a.transpose(0, 2, 3, 1)) {                   // a view: no copy
                if (contiguous(nhwc)) {
                    long c = dims[1];
                    long w = dims[3];
                    return new NativeView(buffer(nhwc), dims, new long[] {dims[2] * w * c, 1, w * c, c});
                }
            }
        }
        return null;
    }

    /** Whether rows of the last axis lie one after another (a plain row-major array). */
    boolean rowMajor() {
        return java.util.Arrays.equals(strides, rowMajor(dims));
    }

    /** The element at this row-major (logical) flat index. */
    float at(long flat) {
        long offset = 0;
        for (int d = dims.length - 1; d >= 0; d--) {
            offset += (flat % dims[d]) * strides[d];
            flat /= dims[d];
        }
        return data.get(Math.toIntExact(offset));
    }

    /** The element at [n, c, h, w] of a 4-D tensor. */
    float at(long n, long c, long h, long w) {
        return data.get(Math.toIntExact(n * strides[0] + c * strides[1] + h * strides[2] + w * strides[3]));
    }

    private static long[] rowMajor(long[] dims) {
        long[] s = new long[dims.length];
        long step = 1;
        for (int d = dims.length - 1; d >= 0; d--) {
            s[d] = step;
            step *= dims[d];
        }
        return s;
    }

    private static boolean contiguous(NDArray a) {
        try {
            return (boolean) IS_CONTIGUOUS.invokeExact((long) ((ai.djl.pytorch.engine.PtNDArray) a).getHandle());
        } catch (Throwable e) {
            return false;
        }
    }

    private static FloatBuffer buffer(NDArray contiguous) {
        return contiguous.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static MethodHandle isContiguous() {
        try {
            Class<?> library = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(library, MethodHandles.lookup());
            Object lib = lookup.findStaticVarHandle(library, "LIB", library).get();
            MethodHandle h = lookup.findVirtual(library, "torchIsContiguous", MethodType.methodType(boolean.class, long.class));
            return h.bindTo(lib);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
