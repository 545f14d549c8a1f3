package dev.unetlens.extract;

import dev.unetlens.UnetlensException;
import dev.unetlens.io.NpyArray;

import java.util.Arrays;
import java.util.List;
import java.util.function.DoubleBinaryOperator;

/**
 * A module's representation: N feature maps of C channels over H × W positions, shape (N, C, H, W), where N counts
 * sampling steps (during a generation) or noise samples (for an existing image). Held as float32 in Java memory,
 * or rounded to float16 values with {@link #toFloat16()} (as a model run in half precision would store them).
 *
 * <p>The operations are sdhelper's {@code SDRepresentation}: {@link #concat} of several modules at the largest
 * spatial size, {@link #cosineSimilarity} between positions, element-wise arithmetic.
 *
 * @param name   what it is (module path or block name)
 * @param shape  (N, C, H, W); (N, C) after spatial averaging is allowed too
 * @param data   row-major values
 * @param half   whether the values were rounded to float16
 */
public record Representation(String name, long[] shape, float[] data, boolean half) {

    public Representation {
        shape = shape.clone();
        if (NpyArray.elementCount(shape) != data.length) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " needs "
                    + NpyArray.elementCount(shape) + " values, got " + data.length);
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int n() {
        return (int) shape[0];
    }

    public int channels() {
        return (int) shape[1];
    }

    public int height() {
        return shape.length > 2 ? (int) shape[2] : 1;
    }

    public int width() {
        return shape.length > 3 ? (int) shape[3] : 1;
    }

    /**
     * The representation of one batch row of a point over the steps an {@link dev.unetlens.hook.ActivationCache}
     * captured during a generation: shape (steps, C, H, W), steps in order.
     */
    public static Representation fromSteps(dev.unetlens.hook.ActivationCache cache, String point, int row) {
        List<Integer> steps = cache.steps(point);
        if (steps.isEmpty()) {
            throw new UnetlensException("nothing captured at " + point);
        }
        long[] one = cache.get(point, steps.getFirst()).getShape().getShape();
        if (row < 0 || row >= one[0]) {
            throw new UnetlensException("row " + row + " is outside the " + one[0] + " captured rows of " + point);
        }
        int per = (int) (NpyArray.elementCount(one) / one[0]);
        float[] all = new float[steps.size() * per];
        for (int i = 0; i < steps.size(); i++) {
            float[] v = cache.get(point, steps.get(i)).get(row + ":" + (row + 1)).toFloatArray();
            System.arraycopy(v, 0, all, i * per, per);
        }
        long[] shape = one.clone();
        shape[0] = steps.size();
        return new Representation(point, shape, all, false);
    }

    /** Values rounded to float16 (round to nearest even) and back. */
    public Representation toFloat16() {
        float[] h = new float[data.length];
        for (int i = 0; i < h.length; i++) {
            h[i] = Float.float16ToFloat(Float.floatToFloat16(data[i]));
        }
        return new Representation(name, shape, h, true);
    }

    /** Float32 values (a float16 representation keeps its rounded values, now as float32). */
    public Representation toFloat32() {
        return new Representation(name, shape, data, false);
    }

    /** The n-th map, shape (1, C, H, W). */
    public Representation at(int index) {
        int per = data.length / n();
        long[] s = shape.clone();
        s[0] = 1;
        return new Representation(name + "[" + index + "]", s, Arrays.copyOfRange(data, index * per, (index + 1) * per), half);
    }

    public Representation plus(Representation o) {
        return zip(o, Double::sum, "+");
    }

    public Representation minus(Representation o) {
        return zip(o, (a, b) -> a - b, "−");
    }

    public Representation times(Representation o) {
        return zip(o, (a, b) -> a * b, "×");
    }

    public Representation dividedBy(Representation o) {
        return zip(o, (a, b) -> a / b, "÷");
    }

    public Representation times(double k) {
        float[] out = new float[data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (data[i] * k);
        }
        return new Representation(name + "×" + k, shape, out, false);
    }

    public Representation plus(double k) {
        float[] out = new float[data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (data[i] + k);
        }
        return new Representation(name + "+" + k, shape, out, false);
    }

    private Representation zip(Representation o, DoubleBinaryOperator f, String op) {
        if (!Arrays.equals(shape, o.shape)) {
            throw new UnetlensException("cannot combine " + name + " " + Arrays.toString(shape) + " " + op + " " + o.name
                    + " " + Arrays.toString(o.shape) + ": shapes differ");
        }
        float[] out = new float[data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) f.applyAsDouble(data[i], o.data[i]);
        }
        return new Representation(name + op + o.name, shape, out, false);
    }

    /** The mean over positions: shape (N, C). */
    public Representation spatialMean() {
        int hw = height() * width();
        float[] out = new float[n() * channels()];
        for (int i = 0; i < out.length; i++) {
            double s = 0;
            for (int p = 0; p < hw; p++) {
                s += data[i * hw + p];
            }
            out[i] = (float) (s / hw);
        }
        return new Representation(name, new long[] {n(), channels()}, out, half);
    }

    /**
     * sdhelper's {@code concat}: the modules' maps (each with its N maps merged into the channels) stacked along the
     * channels at one spatial size — the smallest size doubled until it covers the largest — each map repeated
     * nearest-neighbour by the whole factor that fits, the bottom and right edges zero-padded where sizes are not
     * multiples of each other. Result: shape (1, Σ N·C, S_h, S_w).
     */
    public static Representation concat(List<Representation> reps) {
        if (reps.isEmpty()) {
            throw new UnetlensException("nothing to concatenate");
        }
        int[] size = concatSize(reps.stream().map(r -> new int[] {r.height(), r.width()}).toList());
        int sh = size[0];
        int sw = size[1];
        int channels = reps.stream().mapToInt(r -> r.n() * r.channels()).sum();
        float[] out = new float[channels * sh * sw];
        int c0 = 0;
        for (Representation r : reps) {
            int h = r.height();
            int w = r.width();
            int fy = sh / h;
            int fx = sw / w;
            int cs = r.n() * r.channels();
            for (int c = 0; c < cs; c++) {
                for (int y = 0; y < Math.min(h * fy, sh); y++) {
                    for (int x = 0; x < Math.min(w * fx, sw); x++) {
                        out[((c0 + c) * sh + y) * sw + x] = r.data[(c * h + y / fy) * w + x / fx];
                    }
                }
            }
            c0 += cs;
        }
        String name = String.join("+", reps.stream().map(Representation::name).toList());
        return new Representation(name, new long[] {1, channels, sh, sw}, out, false);
    }

    /**
     * The spatial size {@link #concat} brings maps of these [H, W] sizes to: the smallest size doubled until it covers
     * the largest in both directions.
     */
    public static int[] concatSize(List<int[]> sizes) {
        int minH = sizes.stream().mapToInt(s -> s[0]).min().orElseThrow();
        int minW = sizes.stream().mapToInt(s -> s[1]).min().orElseThrow();
        int maxH = sizes.stream().mapToInt(s -> s[0]).max().orElseThrow();
        int maxW = sizes.stream().mapToInt(s -> s[1]).max().orElseThrow();
        int sh = minH;
        int sw = minW;
        while (sh < maxH || sw < maxW) {            // numpy: while (max > spatial).any(): spatial *= 2
            sh *= 2;
            sw *= 2;
        }
        return new int[] {sh, sw};
    }

    /**
     * sdhelper's {@code cosine_similarity}: both sides concatenated ({@link #concat}), each position's feature vector
     * normalised, then every position of this against every position of {@code other}: shape (H, W, H', W').
     */
    public static float[] cosineSimilarity(List<Representation> a, List<Representation> b, long[] shapeOut) {
        Representation x = concat(a);
        Representation y = concat(b);
        if (x.channels() != y.channels()) {
            throw new UnetlensException("cosine similarity needs the same channels on both sides: " + x.channels()
                    + " vs " + y.channels());
        }
        int c = x.channels();
        int p = x.height() * x.width();
        int q = y.height() * y.width();
        double[] nx = norms(x, c, p);
        double[] ny = norms(y, c, q);
        float[] out = new float[p * q];
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < q; j++) {
                double dot = 0;
                for (int k = 0; k < c; k++) {
                    dot += (double) x.data[k * p + i] * y.data[k * q + j];
                }
                out[i * q + j] = (float) (dot / (nx[i] * ny[j]));
            }
        }
        shapeOut[0] = x.height();
        shapeOut[1] = x.width();
        shapeOut[2] = y.height();
        shapeOut[3] = y.width();
        return out;
    }

    private static double[] norms(Representation r, int c, int p) {
        double[] n = new double[p];
        for (int k = 0; k < c; k++) {
            for (int i = 0; i < p; i++) {
                double v = r.data[k * p + i];
                n[i] += v * v;
            }
        }
        for (int i = 0; i < p; i++) {
            n[i] = Math.sqrt(n[i]);
        }
        return n;
    }

    /** As an npy array (float32, or float16 for a half representation). */
    public NpyArray toNpy() {
        if (!half) {
            return NpyArray.ofFloats(shape, data);
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(data.length * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float v : data) {
            b.putShort(Float.floatToFloat16(v));
        }
        return new NpyArray(dev.unetlens.io.DType.F16, shape, b.flip());
    }
}
