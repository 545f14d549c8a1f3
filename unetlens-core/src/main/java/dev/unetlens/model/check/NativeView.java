package dev.unetlens.model.check;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Reads a few values of a large tensor without copying it: for a contiguous float32 tensor, a view of its native
 * memory ({@code toByteBuffer(true)}, under a microsecond); checks read a few hundred values of maps of many
 * megabytes on every call. DJL's public API cannot say whether a tensor is contiguous, and asking for the direct
 * buffer of one that is not makes a full hidden copy; so contiguity is asked of DJL's own native binding
 * ({@code PyTorchLibrary.torchIsContiguous}, package-private in the pinned DJL 0.35.1), looked up once. Where that
 * lookup fails (another DJL), {@link #floats} answers null and callers gather instead.
 */
final class NativeView {
    private static final MethodHandle IS_CONTIGUOUS = isContiguous();

    private NativeView() {
    }

    /** The tensor's values in row-major order as a view of its memory, or null (not contiguous, not float32, no binding). */
    static FloatBuffer floats(NDArray a) {
        if (IS_CONTIGUOUS == null || a.getDataType() != DataType.FLOAT32
                || !(a instanceof ai.djl.pytorch.engine.PtNDArray pt)) {
            return null;
        }
        try {
            if (!(boolean) IS_CONTIGUOUS.invokeExact((long) pt.getHandle())) {
                return null;
            }
        } catch (Throwable e) {
            return null;
        }
        return a.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
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
