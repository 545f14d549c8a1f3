package dev.unetlens.cli.bench;

import dev.unetlens.io.TensorSource;
import dev.unetlens.model.unet.HookShape;
import dev.unetlens.model.unet.UNet2DConditionModel;

/**
 * The floating-point work of one U-Net forward, counted from the model's own shapes: 2 × the multiply-adds of every
 * convolution, every linear layer and the two attention matmuls (Q·Kᵀ and probs·V); norms, activations and adds are
 * left out. For SD 1.5 this gives 803.27 GFLOP at 64×64, batch 1 (the 803.2), 2× that at batch 2, and
 * 180.1 GFLOP at 32×32: 0.224×, not the 0.25× of the area ratio, because self-attention grows with the square of
 * the token count.
 */
final class UNetFlops {
    private UNetFlops() {
    }

    /** FLOP of a forward of {@code unet} (weights {@code source}) on a [batch, C, h, w] latent with {@code text} tokens. */
    static double count(UNet2DConditionModel unet, TensorSource source, long batch, long h, long w, long text) {
        double flop = 0;
        var size = new UNet2DConditionModel.InputSize(batch, h, w, text, UNet2DConditionModel.TIME_IDS);
        for (HookShape p : unet.shapes(size)) {
            double out = p.shape().size();
            if (p.name().endsWith(":probs")) {                                   // [B, N, T, S]
                String attn = p.name().substring(0, p.name().length() - ":probs".length());
                long inner = weight(source, attn + ".to_q")[0];
                long headDim = inner / p.shape().get(1);
                flop += 2 * 2 * out * headDim;                                   // Q·Kᵀ and probs·V
            } else if (p.className().equals("Conv2d")) {                         // weight [Cout, Cin, k, k]
                long[] wt = weight(source, p.name());
                flop += 2 * out * wt[1] * wt[2] * wt[3];
            } else if (p.className().equals("Linear")) {                         // weight [out, in]
                flop += 2 * out * weight(source, p.name())[1];
            }
        }
        return flop;
    }

    private static long[] weight(TensorSource source, String module) {
        return source.info(module + ".weight").orElseThrow(() ->
                new IllegalStateException("no weight " + module + ".weight")).shape();
    }
}
