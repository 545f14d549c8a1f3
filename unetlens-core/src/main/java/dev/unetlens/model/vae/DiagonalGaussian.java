package dev.unetlens.model.vae;

import ai.djl.ndarray.NDArray;

/**
 * diffusers {@code DiagonalGaussianDistribution}: the encoder's posterior over latents. The moments
 * [B, 2L, h, w] split into mean and log-variance (clamped to [−30, 20]); std = exp(½·logvar).
 *
 * @param mean   [B, L, h, w]
 * @param logvar [B, L, h, w], clamped
 * @param std    [B, L, h, w]
 */
public record DiagonalGaussian(NDArray mean, NDArray logvar, NDArray std) {

    public static DiagonalGaussian of(NDArray moments) {
        long l = moments.getShape().get(1) / 2;
        NDArray mean = moments.get(":, :{}", l);
        NDArray logvar = moments.get(":, {}:", l).clip(-30f, 20f);
        return new DiagonalGaussian(mean, logvar, logvar.mul(0.5f).exp());
    }

    /** A draw {@code mean + std·eps} for a given standard-normal eps of the mean's shape. */
    public NDArray sample(NDArray eps) {
        return mean.add(std.mul(eps));
    }

    /** The mode, the mean. */
    public NDArray mode() {
        return mean;
    }
}
