package dev.unetlens.extract;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.Component;
import dev.unetlens.hook.ModelHooks;
import dev.unetlens.hook.ModelScope;
import dev.unetlens.hook.ModulePath;
import dev.unetlens.io.RgbImage;
import dev.unetlens.model.ForwardContext;
import dev.unetlens.model.ForwardContext.Branch;
import dev.unetlens.model.ForwardContext.RowLabel;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.vae.DiagonalGaussian;
import dev.unetlens.pipeline.ImageProcessor;
import dev.unetlens.pipeline.StableDiffusion;

import java.util.List;

/**
 * The text encoders' and the VAE's outputs for existing images ({@code extract --images} with points of those
 * components): the prompt the U-Net reads, encoded once, and each image encoded by the VAE as {@link ImageFeatures}
 * encodes it (pixels in [−1, 1], or [0, 1] with {@code unitRange}); the decoder's points see the decoding of the
 * posterior's mean (the image's reconstruction).
 */
public final class ComponentFeatures {
    private final StableDiffusion sd;

    public ComponentFeatures(StableDiffusion sd) {
        this.sd = sd;
    }

    /** Receives a capture of image {@code image}'s encoding, or of the prompt's ({@code image} −1). */
    @FunctionalInterface
    public interface Sink {
        void accept(int image, Capture capture);
    }

    /** Whether any of the VAE's points is the decoder's. */
    private static boolean decodes(List<ModulePath> vae) {
        return vae.stream().anyMatch(p -> p.value().startsWith("decoder") || p.value().startsWith("post_quant_conv"));
    }

    /**
     * Captures the VAE's {@code points} while it encodes image {@code image}, pixels [1, 3, H, W] as the VAE reads them,
     * and, if any point is the decoder's, decodes the posterior's mean.
     */
    public void encode(NDArray pixels, int image, List<ModulePath> points, Sink sink) {
        try (ModelScope scope = ModelScope.open(ModelHooks.of(sd)); ForwardScope f = new ForwardScope()) {
            scope.capture(points, Capture.Rows.ALL, c -> sink.accept(image, c));
            ForwardContext context = new ForwardContext(-1, Double.NaN, List.of(new RowLabel(Branch.COND, image, 0)));
            sd.vae().hooks().during(context, () -> {
                NDArray moments = sd.vae().encodeMoments(pixels);
                return decodes(points) ? sd.vae().decode(DiagonalGaussian.of(moments).mode()) : moments;
            });
        }
    }

    /** Captures {@code points} (text-encoder and VAE ones; U-Net points are {@link ImageFeatures}'). */
    public void run(List<RgbImage> images, List<ModulePath> points, String prompt, boolean unitRange, Sink sink) {
        List<ModulePath> text = points.stream().filter(p -> p.component().isText()).toList();
        List<ModulePath> vae = points.stream().filter(p -> p.component() == Component.VAE).toList();
        ModelHooks hooks = ModelHooks.of(sd);
        try (NDManager m = sd.manager().newSubManager()) {
            if (!text.isEmpty()) {
                try (ModelScope scope = ModelScope.open(hooks); ForwardScope f = new ForwardScope()) {
                    scope.capture(text, Capture.Rows.ALL, c -> sink.accept(-1, c));
                    sd.prompts().encode(m, List.of(prompt), null, 0);
                }
            }
            for (int i = 0; i < images.size() && !vae.isEmpty(); i++) {
                try (NDManager one = m.newSubManager()) {                                   // freed image by image
                    NDArray pixels = ImageProcessor.toTensor(one, List.of(images.get(i)));    // [1, 3, H, W] in [−1, 1]
                    encode(unitRange ? pixels.add(1f).div(2f) : pixels, i, vae, sink);
                }
            }
        }
    }
}
