package dev.unetlens.analysis;

import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.extract.ImageFeatures;
import dev.unetlens.model.unet.HookShape;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The representations an analysis reads, streamed batch by batch out of the U-Net ({@link ImageFeatures#stream}),
 * after checking, from the model's config alone, that every point gives feature maps [B, C, H, W] at every image
 * size (so a bad module fails before any work).
 */
public final class FeatureStream {
    private FeatureStream() {
    }

    /** A point's map: C channels over H × W positions. */
    public record MapShape(int channels, int height, int width) {
        public int positions() {
            return height * width;
        }

        public int size() {
            return channels * height * width;
        }
    }

    /** The maps the points give for an image of {@code width × height} pixels, by point, in the points' order. */
    public static Map<String, MapShape> shapes(StableDiffusion sd, List<String> points, int width, int height) {
        int f = sd.vae().downscale();
        Map<String, long[]> all = new HashMap<>();
        for (HookShape s : sd.unet().shapes(1, height / f, width / f)) {
            all.put(s.name(), s.shape().getShape());
        }
        Map<String, MapShape> out = new LinkedHashMap<>();
        for (String p : points) {
            long[] s = all.get(p);
            if (s == null) {
                throw new UnetlensException("no hook point '" + p + "' in this U-Net (see 'unetlens inspect')");
            }
            if (s.length != 4) {
                throw new UnetlensException("analyses read feature maps [B, C, H, W]; " + p + " gives "
                        + Arrays.toString(s) + "; choose a block, resnet, attention (Transformer2DModel) or sampler");
            }
            out.put(p, new MapShape((int) s[1], (int) s[2], (int) s[3]));
        }
        return out;
    }

    /** The maps of every image of the set, by image: checks every point at every image size. */
    public static List<Map<String, MapShape>> shapes(StableDiffusion sd, List<String> points, ImageSet images) {
        Map<String, Map<String, MapShape>> bySize = new HashMap<>();
        return images.entries().stream().map(e -> bySize.computeIfAbsent(e.width() + "x" + e.height(),
                k -> shapes(sd, points, e.width(), e.height()))).toList();
    }

    /** Runs the extraction over every image, timestep and draw, streaming batches to {@code sink}. */
    public static void run(StableDiffusion sd, ImageSet images, Sampling s, ImageFeatures.BatchSink sink, Progress progress) {
        new ImageFeatures(sd).stream(images.images(), s.options(), s.timesteps(), sink, progress);
    }
}
