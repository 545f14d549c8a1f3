package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.io.DType;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.TensorInfo;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Conversions between stored tensors (safetensors, npy) and float32 NDArrays. */
public final class Tensors {
    private Tensors() {
    }

    /**
     * Whether {@link #load} takes a stored dtype: the floating types F16, BF16, F32 and F64. Others are refused before
     * native code sees them: an integer tensor is no weight, and DJL 0.35's PyTorch engine aborts the JVM outright
     * creating some dtypes from a buffer (INT16; BFLOAT16, which is widened here instead).
     */
    public static boolean loadable(DType dtype) {
        return dtype.isFloat();
    }

    /**
     * Loads a stored floating tensor as a new float32 NDArray owned by {@code manager}: F32 is copied, F16 and
     * BF16 are widened exactly, F64 is rounded. Any other dtype fails with one line naming the tensor.
     */
    public static NDArray load(NDManager manager, TensorInfo info, MemorySegment bytes) {
        Shape shape = new Shape(info.shape());
        DataType stored = switch (info.dtype()) {
            case F32 -> DataType.FLOAT32;
            case F16 -> DataType.FLOAT16;
            case BF16 -> DataType.BFLOAT16;
            case F64 -> DataType.FLOAT64;
            default -> throw new dev.unetlens.UnetlensException("tensor " + dev.unetlens.Messages.quote(info.name())
                    + " has dtype " + info.dtype() + ", which is no floating weight; convert the file to F16, BF16 or"
                    + " F32");
        };
        if (info.elementCount() == 0) {
            return ForwardScope.detach(manager.create(shape, DataType.FLOAT32));
        }
        try {
            ByteBuffer view = bytes.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if (stored == DataType.BFLOAT16) {
                // DJL 0.35's PyTorch engine aborts the JVM creating a bfloat16 array from a buffer; widen here instead
                // (exact: a bfloat16 is the upper 16 bits of the float32)
                return ForwardScope.detach(manager.create(widenBf16(view.asShortBuffer()), shape));
            }
            try (NDArray alias = manager.create(view, shape, stored)) {   // aliases the mapped file: copy it out
                NDArray owned = stored == DataType.FLOAT32 ? alias.duplicate() : alias.toType(DataType.FLOAT32, true);
                return ForwardScope.detach(owned);
            }
        } finally {
            if (bytes.isMapped()) {
                // the copied pages of a mapped file would otherwise count in this process's RSS until the file is
                // closed, doubling the peak while a model loads; they stay in the page cache
                bytes.unload();
            }
        }
    }

    private static float[] widenBf16(java.nio.ShortBuffer bf16) {
        float[] out = new float[bf16.remaining()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.intBitsToFloat((bf16.get(i) & 0xFFFF) << 16);
        }
        return out;
    }

    /** A float32 NDArray from an npy array (any numeric type is converted to float32). */
    public static NDArray fromNpy(NDManager manager, NpyArray a) {
        if (a.dtype() == DType.I64) {
            return manager.create(a.toLongs(), new Shape(a.shape()));
        }
        return manager.create(a.toFloats(), new Shape(a.shape()));
    }

    /** An npy array (float32, or int64 for integer NDArrays) holding a copy of {@code x}. */
    public static NpyArray toNpy(NDArray x) {
        long[] shape = x.getShape().getShape();
        if (x.getDataType().isInteger()) {
            return NpyArray.ofLongs(shape, x.toType(DataType.INT64, false).toLongArray());
        }
        return NpyArray.ofFloats(shape, x.toType(DataType.FLOAT32, false).toFloatArray());
    }
}
