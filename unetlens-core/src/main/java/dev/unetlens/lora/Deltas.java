package dev.unetlens.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.Tensors;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The weight difference ΔW one LoRA module makes, in float32, before the user's scale, as A1111's Lora extension
 * computes it ({@code network_lora.py}, {@code network_hada.py}, {@code network_full.py}, {@code lyco_helpers.py}):
 * <ul>
 *   <li>LoRA / LoCon: ΔW = up · down · alpha / rank, rank = down's first dimension (alpha defaults to the rank);
 *       up [O, r] (or [O, r, 1, 1]), down [r, I] or [r, I, kh, kw] (a conv LoRA), the product reshaped to the
 *       weight's shape; with LoCon's {@code lora_mid} [r, r, kh, kw] (CP decomposition):
 *       ΔW[o, i, k, l] = Σ_{n, m} mid[n, m, k, l] up[o, n] down[m, i];</li>
 *   <li>LoHa: ΔW = (w1a · w1b) ⊙ (w2a · w2b) · alpha / rank, rank = w1b's first dimension; with Tucker cores
 *       t [r, r, kh, kw] a factor is Σ_{n, m} t[n, m, k, l] a[n, o] b[m, i];</li>
 *   <li>LoKr: ΔW = (w1 ⊗ w2) · alpha / rank ({@link Kronecker});</li>
 *   <li>full difference: ΔW = {@code diff} (and the bias difference {@code diff_b}).</li>
 * </ul>
 * diffusers' {@code fuse_lora} merges the same W + scale · up · down · alpha / rank. Every shape is checked against
 * the weight before anything is multiplied, so a hostile file can neither fail inside libtorch nor make a product
 * larger than the weight. Other LyCORIS types ((IA)³, OFT, GLoRA, DoRA) are refused by name.
 */
final class Deltas {
    private static final Set<String> LORA = Set.of("lora_down.weight", "lora_up.weight", "lora_mid.weight", "alpha");
    private static final Set<String> LOHA = Set.of("hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "hada_t1",
            "hada_t2", "alpha");
    private static final Set<String> LOKR = Set.of("lokr_w1", "lokr_w1_a", "lokr_w1_b", "lokr_w2", "lokr_w2_a",
            "lokr_w2_b", "lokr_t2", "alpha");
    private static final Set<String> FULL = Set.of("diff", "diff_b");

    private Deltas() {
    }

    /** The kind of a module ({@code lora}, {@code loha}, {@code full}), or a one-line refusal naming what it is. */
    static String kind(LoraFile f, LoraFile.Module m) {
        Set<String> p = m.parts().keySet();
        if (p.contains("lora_down.weight") || p.contains("lora_up.weight")) {
            return check(f, m, LORA, "lora_down.weight", "lora_up.weight", "lora");
        }
        if (p.stream().anyMatch(k -> k.startsWith("hada_"))) {
            return check(f, m, LOHA, "hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "loha");
        }
        if (p.stream().anyMatch(k -> k.startsWith("lokr_"))) {
            check(f, m, LOKR, "lokr");
            for (String w : List.of("lokr_w1", "lokr_w2")) {
                if (!p.contains(w) && !(p.contains(w + "_a") && p.contains(w + "_b"))) {
                    throw new UnetlensException(where(f, m) + " lacks its " + w + " (or " + w + "_a and " + w
                            + "_b) (it has " + Messages.value(p) + ")");
                }
            }
            return "lokr";
        }
        if (p.contains("diff")) {
            return check(f, m, FULL, "diff", "full");
        }
        String type = p.contains("dora_scale") ? "DoRA" : p.contains("on_input") || p.contains("weight") ? "(IA)³"
                : p.stream().anyMatch(k -> k.startsWith("oft_")) ? "OFT"
                : p.stream().anyMatch(k -> k.startsWith("a1.") || k.startsWith("b1.")) ? "GLoRA" : null;
        throw new UnetlensException(where(f, m) + " is " + (type == null ? "made of parts " + Messages.value(p)
                + ", which no known network type has" : "a LyCORIS " + type + " module, which unetlens does not"
                + " merge yet") + "; unetlens merges LoRA, LoCon, LoHa, LoKr and full-difference modules");
    }

    /** Checks that {@code m} has the required parts (all but the last argument, the kind) and only allowed ones. */
    private static String check(LoraFile f, LoraFile.Module m, Set<String> allowed, String... requiredThenKind) {
        for (int i = 0; i < requiredThenKind.length - 1; i++) {
            if (!m.parts().containsKey(requiredThenKind[i])) {
                throw new UnetlensException(where(f, m) + " lacks its " + requiredThenKind[i] + " (it has "
                        + Messages.value(m.parts().keySet()) + ")");
            }
        }
        for (String p : m.parts().keySet()) {
            if (!allowed.contains(p)) {
                throw new UnetlensException(where(f, m) + " has a part " + Messages.quote(p) + " its network type"
                        + " does not have" + (p.equals("dora_scale") ? " (DoRA, which unetlens does not merge yet)" : ""));
            }
        }
        return requiredThenKind[requiredThenKind.length - 1];
    }

    static String where(LoraFile f, LoraFile.Module m) {
        return f.spec().file() + ": module " + Messages.quote(m.key());
    }

    /**
     * ΔW of module {@code m} for a weight of {@code shape}: {@code part} is {@code "weight"}, or {@code "bias"} for a
     * full module's {@code diff_b}.
     */
    static NDArray delta(LoraFile f, LoraFile.Module m, String part, long[] shape, NDManager mgr) {
        return switch (kind(f, m)) {
            case "lora" -> lora(f, m, shape, mgr);
            case "loha" -> loha(f, m, shape, mgr);
            case "lokr" -> Kronecker.delta(f, m, shape, mgr);
            default -> {
                String name = part.equals("bias") ? "diff_b" : "diff";
                long[] d = shapeOf(f, m, name);
                if (count(d) != count(shape) || d.length > 0 && shape.length > 0 && d[0] != shape[0]) {
                    throw misfit(f, m, name + " " + Messages.shape(d), shape);
                }
                yield load(f, m, name, mgr).reshape(new Shape(shape));
            }
        };
    }

    private static NDArray lora(LoraFile f, LoraFile.Module m, long[] shape, NDManager mgr) {
        long[] ds = shapeOf(f, m, "lora_down.weight");
        long[] us = shapeOf(f, m, "lora_up.weight");
        String shapes = "up " + Messages.shape(us) + ", down " + Messages.shape(ds);
        long rank = ds.length >= 2 ? ds[0] : -1;
        boolean upOk = (us.length == 2 || us.length == 4 && us[2] == 1 && us[3] == 1) && us[1] == rank;
        if (rank < 1 || ds.length != 2 && ds.length != 4 || !upOk || shape.length == 0 || us[0] != shape[0]) {
            throw misfit(f, m, shapes, shape);
        }
        NDArray up2 = load(f, m, "lora_up.weight", mgr).reshape(us[0], rank);
        double scale = scale(f, m, mgr, rank);
        if (m.parts().containsKey("lora_mid.weight")) {
            long[] ms = shapeOf(f, m, "lora_mid.weight");
            boolean downOk = ds.length == 2 || ds[2] == 1 && ds[3] == 1;
            if (ms.length != 4 || ms[0] != rank || ms[1] != rank || !downOk
                    || !Arrays.equals(shape, new long[] {us[0], ds[1], ms[2], ms[3]})) {
                throw misfit(f, m, shapes + ", mid " + Messages.shape(ms), shape);
            }
            NDArray mid = load(f, m, "lora_mid.weight", mgr);
            NDArray down2 = load(f, m, "lora_down.weight", mgr).reshape(rank, ds[1]);
            // Σ_n up[o, n] mid[n, m, k, l] → [o, m, k, l]; then Σ_m (…)[o, m, k, l] down[m, i] → [o, i, k, l]
            NDArray x = up2.matMul(mid.reshape(rank, -1)).reshape(us[0], rank, ms[2], ms[3]);
            return x.transpose(0, 2, 3, 1).matMul(down2).transpose(0, 3, 1, 2).mul(scale);
        }
        if (count(ds) / rank != count(shape) / shape[0]) {
            throw misfit(f, m, shapes, shape);
        }
        NDArray down2 = load(f, m, "lora_down.weight", mgr).reshape(rank, -1);
        return up2.matMul(down2).reshape(new Shape(shape)).mul(scale);
    }

    private static NDArray loha(LoraFile f, LoraFile.Module m, long[] shape, NDManager mgr) {
        long[] b1 = shapeOf(f, m, "hada_w1_b");
        long rank = b1.length >= 2 ? b1[0] : -1;
        if (rank < 1) {
            throw misfit(f, m, "hada_w1_b " + Messages.shape(b1), shape);
        }
        NDArray u1 = factor(f, m, "hada_w1_a", "hada_w1_b", "hada_t1", shape, mgr);
        NDArray u2 = factor(f, m, "hada_w2_a", "hada_w2_b", "hada_t2", shape, mgr);
        return u1.mul(u2).mul(scale(f, m, mgr, rank));
    }

    /**
     * One Hadamard factor in the weight's shape: {@code a · b} (a [O, r], b [r, …]), or with a Tucker core
     * t [r, r, kh, kw], a [r, O], b [r, I]: Σ_{n, m} t[n, m, k, l] a[n, o] b[m, i] (A1111's make_weight_cp).
     */
    private static NDArray factor(LoraFile f, LoraFile.Module m, String aName, String bName, String tName,
                                  long[] shape, NDManager mgr) {
        long[] as = shapeOf(f, m, aName);
        long[] bs = shapeOf(f, m, bName);
        String shapes = aName + " " + Messages.shape(as) + ", " + bName + " " + Messages.shape(bs);
        if (as.length != 2 || bs.length < 2 || shape.length == 0) {
            throw misfit(f, m, shapes, shape);
        }
        if (!m.parts().containsKey(tName)) {
            if (as[1] != bs[0] || as[0] != shape[0] || count(bs) / bs[0] != count(shape) / shape[0]) {
                throw misfit(f, m, shapes, shape);
            }
            NDArray b = load(f, m, bName, mgr).reshape(bs[0], -1);
            return load(f, m, aName, mgr).matMul(b).reshape(new Shape(shape));
        }
        long[] ts = shapeOf(f, m, tName);
        if (ts.length != 4 || bs.length != 2 || ts[0] != as[0] || ts[1] != bs[0]
                || !Arrays.equals(shape, new long[] {as[1], bs[1], ts[2], ts[3]})) {
            throw misfit(f, m, shapes + ", " + tName + " " + Messages.shape(ts), shape);
        }
        return cp(load(f, m, tName, mgr), load(f, m, aName, mgr), load(f, m, bName, mgr));
    }

    /** A1111's make_weight_cp: Σ_{n, m} t[n, m, k, l] a[n, o] b[m, i] → [o, i, k, l]. */
    static NDArray cp(NDArray t, NDArray a, NDArray b) {
        NDArray temp = t.transpose(0, 2, 3, 1).matMul(b).transpose(0, 3, 1, 2);   // [n, i, k, l]
        return temp.transpose(1, 2, 3, 0).matMul(a).transpose(3, 0, 1, 2);         // [o, i, k, l]
    }

    static UnetlensException misfit(LoraFile f, LoraFile.Module m, String shapes, long[] shape) {
        return new UnetlensException(where(f, m) + ": " + shapes + " make no difference for a weight of shape "
                + Messages.shape(shape) + "; is the LoRA for another model?");
    }

    /**
     * alpha / rank: alpha from the module's {@code alpha} tensor, else from a diffusers file's PEFT config
     * ({@link PeftAlphas}, which may say alpha / √rank), else the rank (factor 1).
     */
    static double scale(LoraFile f, LoraFile.Module m, NDManager mgr, long rank) {
        if (!m.parts().containsKey("alpha")) {
            return m.flat() ? 1 : f.peftAlphas().scale(m.component().folder(), m.name(), rank).orElse(1);
        }
        long[] s = shapeOf(f, m, "alpha");
        if (count(s) != 1) {
            throw new UnetlensException(where(f, m) + ": alpha has shape " + Messages.shape(s) + ", not one value");
        }
        return load(f, m, "alpha", mgr).toFloatArray()[0] / rank;
    }

    /** A part's stored shape: a floating tensor of at most 4 dimensions, each in [1, 2^31), whose size fits an int. */
    static long[] shapeOf(LoraFile f, LoraFile.Module m, String part) {
        String key = m.parts().get(part);
        TensorInfo info = f.tensors().info(key).orElseThrow();
        long[] s = info.shape();
        boolean ok = s.length <= 4 && Tensors.loadable(info.dtype());
        long n = 1;
        for (long d : s) {
            ok &= d >= 1 && d <= Integer.MAX_VALUE;
            n = ok ? n * d : n;
            ok &= n <= Integer.MAX_VALUE;
        }
        if (!ok) {
            throw new UnetlensException(f.spec().file() + ": tensor " + Messages.quote(key) + " is " + info.dtype()
                    + Messages.shape(s) + "; a LoRA part is a floating tensor of 1 to 4 non-empty dimensions");
        }
        return s;
    }

    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    static NDArray load(LoraFile f, LoraFile.Module m, String part, NDManager mgr) {
        String key = m.parts().get(part);
        TensorSource t = f.tensors();
        return Tensors.load(mgr, t.info(key).orElseThrow(), t.data(key));
    }

    /** The weight key a module changes, and, for a full module with {@code diff_b}, the bias key too. */
    static Map<String, String> targets(LoraFile.Module m, String weightKey) {
        if (m.parts().containsKey("diff_b") && weightKey.endsWith(".weight")) {
            return Map.of("weight", weightKey, "bias", weightKey.substring(0, weightKey.length() - 6) + "bias");
        }
        return Map.of("weight", weightKey);
    }
}
