package dev.unetlens.model.check;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

import java.util.LinkedHashSet;
import java.util.SplittableRandom;

/**
 * Which outputs of a kernel to check, and reading a few values of a large array. Indices along an axis of length n
 * come edges first — 0, 1, n−1, n−2, the middle — then positions at the boundaries of 8- and 16-wide blocks (where
 * vectorised kernels switch to their tail code), then seeded random ones: a kernel that is wrong only at a border,
 * a tail or a block boundary is caught, and a kernel that is wrong everywhere is caught by any.
 */
final class Samples {
    private Samples() {
    }

    /** Up to {@code count} distinct indices in [0, n), in the order above. */
    static int[] along(long n, int count, SplittableRandom random) {
        LinkedHashSet<Long> picked = new LinkedHashSet<>();
        long[] preferred = {0, n - 1, 1, n - 2, n / 2, 15, 16, n - 16, n - 17, 7, 8, n - 8, n - 9};
        for (long i : preferred) {
            if (picked.size() < count && i >= 0 && i < n) {
                picked.add(i);
            }
        }
        for (int tries = 0; picked.size() < Math.min(count, n) && tries < 4 * count; tries++) {
            picked.add(random.nextLong(n));
        }
        return picked.stream().mapToInt(Long::intValue).toArray();
    }

    /** Arrays up to this many elements are copied whole (one call) rather than gathered (four). */
    static final long COPY_WHOLE = 1L << 16;

    /**
     * The values of {@code a} at these flat (row-major) indices, as floats: read in place where {@link NativeView}
     * can, else from a whole copy (small arrays) or a gather.
     */
    static float[] at(NDArray a, long[] flatIndices) {
        NativeView view = NativeView.of(a);
        if (view != null) {
            float[] out = new float[flatIndices.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = view.at(flatIndices[i]);
            }
            return out;
        }
        if (a.size() <= COPY_WHOLE && a.getDataType() == DataType.FLOAT32) {
            float[] all = a.toFloatArray();
            float[] out = new float[flatIndices.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = all[(int) flatIndices[i]];
            }
            return out;
        }
        NDManager m = a.getManager();
        try (NDArray index = m.create(flatIndices); NDArray picked = a.take(m, index)) {  // torch.take: no copy of a
            if (picked.getDataType() == DataType.FLOAT32) {
                return picked.toFloatArray();
            }
            try (NDArray floats = picked.toType(DataType.FLOAT32, true)) {
                return floats.toFloatArray();
            }
        }
    }

    /**
     * Whole rows of {@code a} seen as [R, width] (its last axis): read in place where possible, else copied whole
     * (small arrays) or row by row as views, so a large non-contiguous array is never copied whole.
     */
    static float[] rows(NDArray a, int[] rows, int width) {
        float[] out = new float[rows.length * width];
        NativeView view = NativeView.of(a);
        if (view != null && !view.rowMajor()) {
            for (int r = 0; r < rows.length; r++) {
                for (int t = 0; t < width; t++) {
                    out[r * width + t] = view.at((long) rows[r] * width + t);
                }
            }
            return out;
        }
        if (view != null || a.size() <= COPY_WHOLE) {
            float[] all = view == null ? a.toType(DataType.FLOAT32, false).toFloatArray() : null;
            for (int r = 0; r < rows.length; r++) {
                if (view != null) {
                    view.data().get(rows[r] * width, out, r * width, width);
                } else {
                    System.arraycopy(all, rows[r] * width, out, r * width, width);
                }
            }
            return out;
        }
        long[] dims = a.getShape().getShape();
        for (int r = 0; r < rows.length; r++) {
            ai.djl.ndarray.index.NDIndex index = new ai.djl.ndarray.index.NDIndex();
            long rest = rows[r];
            long[] lead = new long[dims.length - 1];
            for (int d = dims.length - 2; d >= 0; d--) {                    // unravel the row number
                lead[d] = rest % dims[d];
                rest /= dims[d];
            }
            index.addIndices(lead);
            try (NDArray row = a.get(index)) {
                System.arraycopy(row.toFloatArray(), 0, out, r * width, width);
            }
        }
        return out;
    }

    /** {@code count} indices in [0, n) drawn uniformly (repeats allowed). */
    static int[] random(long n, int count, SplittableRandom random) {
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = (int) random.nextLong(n);
        }
        return out;
    }
}
