package dev.unetlens.io;

import java.util.Arrays;

/**
 * One tensor entry of a weight file.
 *
 * @param name  the state-dict key ({@code down_blocks.0.resnets.0.conv1.weight})
 * @param dtype element type as stored
 * @param shape dimensions as stored
 * @param begin first byte, relative to the start of the data section
 * @param end   one past the last byte
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        return NpyArray.elementCount(shape);
    }

    public long byteSize() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
