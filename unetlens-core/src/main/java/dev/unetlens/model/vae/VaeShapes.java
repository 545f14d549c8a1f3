package dev.unetlens.model.vae;

import dev.unetlens.UnetlensException;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.model.HookTable;
import dev.unetlens.model.unet.HookShape;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The hook-point shapes of an {@link AutoencoderKL} for an image of H × W pixels, from the config alone: the encoder's
 * points for encoding that image, the decoder's for decoding its latent (H/f × W/f). Shape letters: B images, C a
 * level's channels, h w its size, T = h·w positions of the mid-block attention, L latent channels.
 */
final class VaeShapes {
    private final VaeConfig c;
    private final long b;
    private final Map<String, long[]> shapes = new HashMap<>();

    private VaeShapes(VaeConfig c, long batch) {
        this.c = c;
        this.b = batch;
    }

    /** Every point's shape, in the table's (module-tree) order; fails if a point was missed. */
    static List<HookShape> of(AutoencoderKL vae, long batch, long height, long width) {
        VaeShapes s = new VaeShapes(vae.config(), batch);
        long[] latent = s.encoder(height, width);
        s.decoder(latent[0], latent[1]);
        List<HookShape> out = new ArrayList<>();
        for (HookTable.PointInfo p : vae.hooks().points()) {
            if (p.name().isEmpty()) {
                continue;                                                      // the root emits nothing
            }
            long[] shape = s.shapes.get(p.name());
            if (shape == null) {
                throw new IllegalStateException("no shape for VAE point " + p.name());
            }
            out.add(new HookShape(p.name(), p.module().typeName(), new ai.djl.ndarray.types.Shape(shape)));
        }
        return out;
    }

    private void put(String name, long... shape) {
        shapes.put(name, shape);
    }

    /** The encoder's points for [B, Cin, h, w]; returns the latent's (h, w). */
    private long[] encoder(long h, long w) {
        List<Integer> ch = c.blockOutChannels();
        long l2 = 2L * c.latentChannels();
        put("encoder.conv_in", b, ch.getFirst(), h, w);
        for (int i = 0; i < ch.size(); i++) {
            String p = "encoder.down_blocks." + i;
            long in = ch.get(Math.max(0, i - 1));
            for (int j = 0; j < c.layersPerBlock(); j++) {
                resnet(p + ".resnets." + j, j == 0 ? in : ch.get(i), ch.get(i), h, w);
            }
            if (i < ch.size() - 1) {
                h = halved(h);                                                 // pad (0, 1, 0, 1), 3×3 stride 2
                w = halved(w);
                put(p + ".downsamplers.0.conv", b, ch.get(i), h, w);
                put(p + ".downsamplers.0", b, ch.get(i), h, w);
            }
            put(p, b, ch.get(i), h, w);
        }
        midBlock("encoder.mid_block", ch.getLast(), h, w);
        put("encoder.conv_norm_out", b, ch.getLast(), h, w);
        put("encoder.conv_out", b, l2, h, w);
        put("encoder", b, l2, h, w);
        put("quant_conv", b, l2, h, w);
        return new long[] {h, w};
    }

    /** The decoder's points for a latent [B, L, h, w]. */
    private void decoder(long h, long w) {
        List<Integer> rev = c.blockOutChannels().reversed();
        put("post_quant_conv", b, c.latentChannels(), h, w);
        put("decoder.conv_in", b, rev.getFirst(), h, w);
        midBlock("decoder.mid_block", rev.getFirst(), h, w);
        for (int i = 0; i < rev.size(); i++) {
            String p = "decoder.up_blocks." + i;
            long in = rev.get(Math.max(0, i - 1));
            for (int j = 0; j <= c.layersPerBlock(); j++) {
                resnet(p + ".resnets." + j, j == 0 ? in : rev.get(i), rev.get(i), h, w);
            }
            if (i < rev.size() - 1) {
                h *= 2;                                                        // nearest ×2, then 3×3
                w *= 2;
                put(p + ".upsamplers.0.conv", b, rev.get(i), h, w);
                put(p + ".upsamplers.0", b, rev.get(i), h, w);
            }
            put(p, b, rev.get(i), h, w);
        }
        put("decoder.conv_norm_out", b, rev.getLast(), h, w);
        put("decoder.conv_out", b, c.outChannels(), h, w);
        put("decoder", b, c.outChannels(), h, w);
    }

    /** A resnet without time embedding, [B, in, h, w] → [B, out, h, w]. */
    private void resnet(String p, long in, long out, long h, long w) {
        put(p + ".norm1", b, in, h, w);
        put(p + ".conv1", b, out, h, w);
        put(p + ".norm2", b, out, h, w);
        put(p + ".conv2", b, out, h, w);
        if (in != out) {
            put(p + ".conv_shortcut", b, out, h, w);
        }
        put(p, b, out, h, w);
    }

    /** resnet → single-head attention over T = h·w positions (GroupNorm on [B, C, T]) → resnet. */
    private void midBlock(String p, long ch, long h, long w) {
        resnet(p + ".resnets.0", ch, ch, h, w);
        if (c.midBlockAttention()) {
            String a = p + ".attentions.0";
            long t = h * w;
            put(a + ".group_norm", b, ch, t);
            put(a + ".to_q", b, t, ch);
            put(a + ".to_k", b, t, ch);
            put(a + ".to_v", b, t, ch);
            put(a + ":probs", b, 1, t, t);
            put(a + ".to_out.0", b, t, ch);
            put(a, b, ch, h, w);
        }
        resnet(p + ".resnets.1", ch, ch, h, w);
        put(p, b, ch, h, w);
    }

    /** A level of the encoder: ⌊n/2⌋ after the asymmetric padding; fails where the image is too small. */
    private static long halved(long n) {
        if (n < 2) {
            throw new UnetlensException("the image is too small for this VAE: a level of size " + n
                    + " cannot take its stride-2 downsampling conv");
        }
        return n / 2;
    }
}
