package dev.unetlens.io.ldm;

import dev.unetlens.io.TensorSource;
import dev.unetlens.io.TensorView;

/**
 * The EMA copy of the U-Net that LDM's {@code LitEma} keeps in a checkpoint: for each U-Net parameter
 * {@code model.diffusion_model.<key>}, a buffer {@code model_ema.diffusion_model<key without dots>}
 * ({@code input_blocks.0.0.weight} → {@code model_ema.diffusion_modelinput_blocks00weight}), beside
 * {@code model_ema.decay} and {@code model_ema.num_updates}. A1111 and diffusers load the non-EMA weights and ignore
 * these; diffusers' {@code extract_ema=True} loads the EMA ones instead, as {@link #use} does.
 */
public final class EmaWeights {
    /** The prefix of every EMA key. */
    public static final String PREFIX = "model_ema.";

    private EmaWeights() {
    }

    /** The EMA key that holds the average of {@code unetKey} (a {@code model.diffusion_model.*} key). */
    public static String emaKey(String unetKey) {
        return PREFIX + unetKey.substring("model.".length()).replace(".", "");
    }

    /** How many U-Net tensors of {@code raw} have an EMA copy of the same dtype and shape. */
    public static int count(TensorSource raw) {
        int n = 0;
        for (String name : raw.names()) {
            if (hasEma(raw, name)) {
                n++;
            }
        }
        return n;
    }

    private static boolean hasEma(TensorSource raw, String name) {
        if (!name.startsWith(LdmFamily.UNET_PREFIX)) {
            return false;
        }
        var ema = raw.info(emaKey(name));
        var own = raw.info(name).orElseThrow();
        return ema.isPresent() && ema.get().dtype() == own.dtype()
                && java.util.Arrays.equals(ema.get().shape(), own.shape());
    }

    /** {@code raw} without the {@code model_ema.*} tensors. */
    public static TensorSource drop(TensorSource raw) {
        TensorView.Builder b = new TensorView.Builder(raw.describe());
        raw.names().stream().filter(n -> !n.startsWith(PREFIX)).forEach(n -> b.put(n, raw, n));
        return b.build();
    }

    /**
     * {@code raw} with each U-Net tensor read from its EMA copy (where one of the same dtype and shape exists) and
     * without the {@code model_ema.*} tensors: what diffusers' {@code extract_ema=True} loads.
     */
    public static TensorSource use(TensorSource raw) {
        TensorView.Builder b = new TensorView.Builder(raw.describe() + " (EMA U-Net)");
        for (String n : raw.names()) {
            if (!n.startsWith(PREFIX)) {
                b.put(n, raw, hasEma(raw, n) ? emaKey(n) : n);
            }
        }
        return b.build();
    }
}
