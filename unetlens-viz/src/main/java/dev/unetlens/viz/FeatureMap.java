package dev.unetlens.viz;

import dev.unetlens.io.NpyArray;

import java.util.Arrays;

/**
 * One module's output for one image: C maps of H×W. Immutable: the array is copied in and out.
 *
 * @param values   [C, H, W] row-major (index = (c·H + row)·W + col)
 * @param channels C
 * @param height   H
 * @param width    W
 */
public record FeatureMap(float[] values, int channels, int height, int width) {
    public FeatureMap {
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("feature map shape must be positive, got [" + channels + ", "
                    + height + ", " + width + "]");
        }
        long n = (long) channels * height * width;
        if (values.length != n) {
            throw new IllegalArgumentException("feature map [" + channels + ", " + height + ", " + width + "] needs "
                    + n + " values, got " + values.length);
        }
        values = values.clone();
    }

    /**
     * One batch row of an array dumped from a hook: [C, H, W] (row must be 0) or [B, C, H, W]; any numeric dtype.
     * Sequence-shaped outputs (a transformer's [B, T, C]) need their H and W: use {@link #ofTokens}.
     */
    public static FeatureMap of(NpyArray array, int row) {
        long[] s = array.shape();
        if (s.length == 3 && row == 0) {
            return new FeatureMap(array.toFloats(), Math.toIntExact(s[0]), Math.toIntExact(s[1]),
                    Math.toIntExact(s[2]));
        }
        if (s.length != 4) {
            throw new IllegalArgumentException("a feature map is [C, H, W] or [B, C, H, W], got "
                    + Arrays.toString(s));
        }
        if (row < 0 || row >= s[0]) {
            throw new IllegalArgumentException("batch row must be in [0, " + (s[0] - 1) + "], got " + row);
        }
        float[] all = array.toFloats();
        int per = Math.toIntExact(s[1] * s[2] * s[3]);
        return new FeatureMap(Arrays.copyOfRange(all, row * per, (row + 1) * per), Math.toIntExact(s[1]),
                Math.toIntExact(s[2]), Math.toIntExact(s[3]));
    }

    /** A sequence of T = H·W position vectors [T, C] (row-major positions) as [C, H, W]. */
    public static FeatureMap ofTokens(float[] tokens, int height, int width, int channels) {
        if (tokens.length != (long) height * width * channels) {
            throw new IllegalArgumentException("[T=" + height + "·" + width + ", C=" + channels + "] needs "
                    + (long) height * width * channels + " values, got " + tokens.length);
        }
        float[] v = new float[tokens.length];
        int t = height * width;
        for (int p = 0; p < t; p++) {
            for (int c = 0; c < channels; c++) {
                v[c * t + p] = tokens[p * channels + c];
            }
        }
        return new FeatureMap(v, channels, height, width);
    }

    /** Channel c as a map. */
    public Plane channel(int c) {
        if (c < 0 || c >= channels) {
            throw new IllegalArgumentException("channel must be in [0, " + (channels - 1) + "], got " + c);
        }
        int hw = height * width;
        return Plane.owning(Arrays.copyOfRange(values, c * hw, (c + 1) * hw), height, width);
    }

    /** The value of channel c at (row, col). */
    public float get(int c, int row, int col) {
        return values[(c * height + row) * width + col];
    }

    /** The C-vector at (row, col). */
    public float[] at(int row, int col) {
        float[] out = new float[channels];
        int hw = height * width;
        int p = row * width + col;
        for (int c = 0; c < channels; c++) {
            out[c] = values[c * hw + p];
        }
        return out;
    }

    @Override
    public float[] values() {
        return values.clone();
    }

    /** "[C, H, W]". */
    public String shapeText() {
        return "[" + channels + ", " + height + ", " + width + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FeatureMap f && channels == f.channels && height == f.height && width == f.width
                && Arrays.equals(values, f.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values) * 31 + Arrays.hashCode(new int[] {channels, height, width});
    }

    @Override
    public String toString() {
        return "FeatureMap" + shapeText();
    }
}
