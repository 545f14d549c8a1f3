package dev.unetlens.extract;

import ai.djl.ndarray.NDArray;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.HookScope;
import dev.unetlens.model.vae.AutoencoderKL;
import dev.unetlens.model.vae.DiagonalGaussian;

import java.util.List;

/**
 * The VAE stage by stage, the walk of "the VAE from scratch": an image through the encoder — {@code conv_in}, each down
 * block (resnets with GroupNorm, then, but in the last level, a stride-2 conv after the asymmetric (0, 1, 0, 1) zero
 * padding), the mid block with its single-head attention, GroupNorm (+ SiLU), {@code conv_out} to 2·L channels and
 * {@code quant_conv} — to the posterior N(mean, exp(log-variance)), log-variance clamped to [−30, 20]; and a latent
 * through the decoder — {@code post_quant_conv}, {@code conv_in}, the mid block, each up block (resnets, then nearest ×2
 * and a conv but in the last level), GroupNorm (+ SiLU), {@code conv_out}. Each stage's output is captured at its hook
 * point ({@link AutoencoderKL#encoderStages()}, {@link AutoencoderKL#decoderStages()}) and handed on as it is made, so
 * that memory holds one stage at a time (a 512² image's first stages are 128 × 512 × 512).
 *
 * <p>Latents here are the VAE's own z; the pipelines' latents are {@code scalingFactor · z}.
 */
public final class VaeWalkthrough {
    private final AutoencoderKL vae;

    public VaeWalkthrough(AutoencoderKL vae) {
        this.vae = vae;
    }

    /**
     * One stage's output for one image.
     *
     * @param point  the hook point ({@code encoder.down_blocks.1})
     * @param index  its place in the walk, from 0
     * @param shape  [1, C, H, W]
     * @param values row-major float32
     */
    public record Stage(String point, int index, long[] shape, float[] values) {
    }

    /** Receives each stage as soon as it is made. */
    @FunctionalInterface
    public interface Sink {
        void accept(Stage stage);
    }

    /** An image [1, 3, H, W] in [−1, 1] through the encoder; returns the posterior (its arrays in the image's manager). */
    public DiagonalGaussian encode(NDArray pixels, Sink sink) {
        return DiagonalGaussian.of(walk(vae.encoderStages(), sink, () -> vae.encodeMoments(pixels)));
    }

    /** A latent z [1, L, h, w] (unscaled) through the decoder; returns the image [1, 3, H, W], unclamped. */
    public NDArray decode(NDArray z, Sink sink) {
        return walk(vae.decoderStages(), sink, () -> vae.decode(z));
    }

    private NDArray walk(List<String> stages, Sink sink, java.util.function.Supplier<NDArray> forward) {
        try (HookScope scope = HookScope.open(vae.hooks())) {
            scope.capture(stages, Capture.Rows.ALL, c -> sink.accept(new Stage(c.point(), stages.indexOf(c.point()),
                    c.value().getShape().getShape(), c.value().toFloatArray())));
            return forward.get();
        }
    }
}
