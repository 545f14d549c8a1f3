package dev.unetlens.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.Messages;

import java.util.Arrays;

/**
 * LyCORIS' LoKr difference as A1111 computes it ({@code network_lokr.py}): ΔW = w1 ⊗ w2 (Kronecker product),
 * reshaped to the weight's shape, times alpha / rank. Each factor is stored whole ({@code lokr_w1}, {@code lokr_w2})
 * or as a product of two ({@code lokr_w1_a · lokr_w1_b}); w2 of a convolution is 4-D, or a Tucker product of
 * {@code lokr_t2} [r, r, kh, kw] with {@code lokr_w2_a} [r, c] and {@code lokr_w2_b} [r, d]. The rank is the first
 * dimension of {@code lokr_w2_b}, else of {@code lokr_w1_b}; with both factors whole the scale is 1.
 */
final class Kronecker {
    private Kronecker() {
    }

    static NDArray delta(LoraFile f, LoraFile.Module m, long[] shape, NDManager mgr) {
        long[] w1 = factorShape(f, m, "lokr_w1", false, shape);
        long[] w2 = factorShape(f, m, "lokr_w2", m.parts().containsKey("lokr_t2"), shape);
        boolean fits = shape.length > 0 && w1.length == 2 && (w2.length == 2 || w2.length == 4);
        if (fits && w2.length == 4) {
            fits = Arrays.equals(shape, new long[] {w1[0] * w2[0], w1[1] * w2[1], w2[2], w2[3]});
        } else if (fits) {
            fits = w1[0] * w2[0] == shape[0] && w1[1] * w2[1] == Deltas.count(shape) / shape[0];
        }
        if (!fits) {
            throw Deltas.misfit(f, m, "w1 " + Messages.shape(w1) + ", w2 " + Messages.shape(w2), shape);
        }
        long rank = rank(f, m);
        double scale = rank < 0 ? 1 : Deltas.scale(f, m, mgr, rank);
        NDArray a = factor(f, m, "lokr_w1", mgr);
        NDArray b = factor(f, m, "lokr_w2", mgr);
        // kron: [a0, a1] ⊗ [b0, b1, …] = a[i, j] b[k, l, …] at [i·b0 + k, j·b1 + l, …]
        NDArray ab = w2.length == 4
                ? a.reshape(w1[0], 1, w1[1], 1, 1, 1).mul(b.reshape(1, w2[0], 1, w2[1], w2[2], w2[3]))
                : a.reshape(w1[0], 1, w1[1], 1).mul(b.reshape(1, w2[0], 1, w2[1]));
        return ab.reshape(new Shape(shape)).mul(scale);
    }

    /** A1111's dim: the first dimension of w2_b, else of w1_b, else none (-1). */
    private static long rank(LoraFile f, LoraFile.Module m) {
        for (String b : new String[] {"lokr_w2_b", "lokr_w1_b"}) {
            if (m.parts().containsKey(b)) {
                return Deltas.shapeOf(f, m, b)[0];
            }
        }
        return -1;
    }

    /**
     * The shape of factor {@code w} ({@code lokr_w1}, {@code lokr_w2}) after its product is formed, checking that
     * the product's parts agree; {@code tucker}: w2 made with {@code lokr_t2}.
     */
    private static long[] factorShape(LoraFile f, LoraFile.Module m, String w, boolean tucker, long[] shape) {
        if (m.parts().containsKey(w)) {
            return Deltas.shapeOf(f, m, w);
        }
        long[] a = Deltas.shapeOf(f, m, w + "_a");
        long[] b = Deltas.shapeOf(f, m, w + "_b");
        String shapes = w + "_a " + Messages.shape(a) + ", " + w + "_b " + Messages.shape(b);
        if (tucker) {
            long[] t = Deltas.shapeOf(f, m, "lokr_t2");
            if (a.length != 2 || b.length != 2 || t.length != 4 || t[0] != a[0] || t[1] != b[0]) {
                throw Deltas.misfit(f, m, shapes + ", lokr_t2 " + Messages.shape(t), shape);
            }
            return new long[] {a[1], b[1], t[2], t[3]};
        }
        if (a.length != 2 || b.length != 2 || a[1] != b[0]) {
            throw Deltas.misfit(f, m, shapes, shape);
        }
        return new long[] {a[0], b[1]};
    }

    private static NDArray factor(LoraFile f, LoraFile.Module m, String w, NDManager mgr) {
        if (m.parts().containsKey(w)) {
            return Deltas.load(f, m, w, mgr);
        }
        NDArray a = Deltas.load(f, m, w + "_a", mgr);
        NDArray b = Deltas.load(f, m, w + "_b", mgr);
        return m.parts().containsKey("lokr_t2") && w.equals("lokr_w2")
                ? Deltas.cp(Deltas.load(f, m, "lokr_t2", mgr), a, b) : a.matMul(b);
    }
}
