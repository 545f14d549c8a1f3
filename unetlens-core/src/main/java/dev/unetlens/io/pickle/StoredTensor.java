package dev.unetlens.io.pickle;

import dev.unetlens.io.NpyArray;

/**
 * A tensor as {@code torch._utils._rebuild_tensor_v2} would build it: a strided view of a storage. Checked when
 * made ({@link TorchGlobals}): every element it can address lies inside the storage.
 *
 * @param storage the storage it views
 * @param offset  its first element, counted from the start of the storage
 * @param shape   its dimensions
 * @param stride  the step between neighbours along each dimension, in elements
 */
record StoredTensor(StorageRef storage, long offset, long[] shape, long[] stride) {
    long elements() {
        return NpyArray.elementCount(shape);
    }

    /** Whether the elements lie one after another in row-major order (dimensions of size 1 may have any stride). */
    boolean contiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return elements() == 0;
            }
            expected *= shape[i];
        }
        return true;
    }
}
