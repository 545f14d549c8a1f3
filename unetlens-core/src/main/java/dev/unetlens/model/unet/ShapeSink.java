package dev.unetlens.model.unet;

import dev.unetlens.UnetlensException;
import dev.unetlens.model.Attention;
import dev.unetlens.model.Module;
import dev.unetlens.model.ResnetBlock2D;

import java.util.HashMap;
import java.util.Map;

/**
 * Collects hook-point shapes while the blocks walk their structure for a given input size ({@code shapes(…)}
 * methods next to each block's {@code forward}); the shared leaf blocks' shapes are filled in here. Shapes are
 * {@code long[]} in the same layout the forward produces.
 */
final class ShapeSink {
    final long batch;
    final long textTokens;
    private final Map<String, long[]> shapes = new HashMap<>();

    ShapeSink(long batch, long textTokens) {
        this.batch = batch;
        this.textTokens = textTokens;
    }

    /** Records the output shape of the point {@code name}; returns the shape. */
    long[] put(String name, long... shape) {
        if (shapes.put(name, shape.clone()) != null) {
            throw new IllegalStateException("shape of '" + name + "' recorded twice");
        }
        return shape;
    }

    /** Records a module's own output shape. */
    long[] put(Module m, long... shape) {
        return put(m.path(), shape);
    }

    Map<String, long[]> shapes() {
        return shapes;
    }

    /** [B, C, H, W] of a feature map. */
    static long[] map(long b, long c, long h, long w) {
        return new long[] {b, c, h, w};
    }

    /** Output size of a convolution along one axis: ⌊(n + 2p − k) / s⌋ + 1; fails where torch's conv would. */
    static long convSize(long n, int kernel, int stride, int padding) {
        if (n + 2L * padding < kernel) {
            throw new UnetlensException("the latent is too small for this U-Net: a level of size " + n
                    + " cannot take its " + kernel + "×" + kernel + " downsampling conv");
        }
        return Math.floorDiv(n + 2L * padding - kernel, stride) + 1;
    }

    /** A ResnetBlock2D x [B, Cin, H, W] → [B, Cout, H, W] and its children. */
    long[] resnet(ResnetBlock2D r, long[] x, long out) {
        long b = x[0];
        long cin = x[1];
        long h = x[2];
        long w = x[3];
        String p = r.path();
        put(p + ".norm1", x);
        put(p + ".conv1", map(b, out, h, w));
        put(p + ".time_emb_proj", b, out);
        put(p + ".norm2", map(b, out, h, w));
        put(p + ".conv2", map(b, out, h, w));
        if (cin != out) {
            put(p + ".conv_shortcut", map(b, out, h, w));
        }
        return put(p, map(b, out, h, w));
    }

    /**
     * An Attention over tokens x [B, T, Q] with keys from [B, S, ·] → [B, T, Q] and its children: to_q / to_k /
     * to_v → I = N·D channels, {@code :context} [B, S, Dc] (cross-attention), {@code :probs} [B, N, T, S], to_out.0.
     */
    long[] attention(Attention a, long[] x, long keyTokens, long inner) {
        long b = x[0];
        long t = x[1];
        String p = a.path();
        put(p + ".to_q", b, t, inner);
        put(p + ".to_k", b, keyTokens, inner);
        put(p + ".to_v", b, keyTokens, inner);
        if (a.isCross()) {
            put(p + ":context", b, keyTokens, a.contextDim());
        }
        put(p + ":probs", b, a.heads(), t, keyTokens);
        put(p + ".to_out.0", x);
        return put(p, x);
    }
}
