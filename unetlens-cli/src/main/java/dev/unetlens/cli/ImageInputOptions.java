package dev.unetlens.cli;

import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.analysis.images.Preprocess;
import dev.unetlens.extract.ImageFeatures;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The options of features from existing images (sdhelper's img2repr), shared by {@code extract} and {@code analyze}:
 * which images, how they are prepared, the timestep, the noise draws and how they are batched.
 */
public class ImageInputOptions {
    @Option(names = "--images", arity = "1..*", paramLabel = "PATH",
            description = "Existing images: files, or folders read recursively in sorted order (PNG, JPEG, WebP, BMP, GIF).")
    List<Path> files;

    @Option(names = "--timestep", paramLabel = "T", description = "Noise level t in [0, 999] (default: 50; analyze: the kind's).")
    Integer timestep;

    @Option(names = "--samples", paramLabel = "N", description = "Noise draws per image (default: 1; analyze: the kind's).")
    Integer samples;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "8", description = "Draws per U-Net forward (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--latent", paramLabel = "KIND", defaultValue = "sample",
            description = "VAE posterior mean or sample (default: ${DEFAULT-VALUE}).")
    String latent;

    @Option(names = "--resize", paramLabel = "PX", description = "Resize the shorter side to PX (then --crop to a square).")
    Integer resize;

    @Option(names = "--crop", description = "Centre-crop to a square (after --resize).")
    boolean crop;

    @Option(names = "--unit-range", description = "Feed pixels in [0, 1] as sdhelper does (default: [-1, 1] as the pipelines).")
    boolean unitRange;

    boolean given() {
        return files != null && !files.isEmpty();
    }

    int timestep(int fallback) {
        return timestep != null ? timestep : fallback;
    }

    int samples(int fallback) {
        return samples != null ? samples : fallback;
    }

    ImageFeatures.Latent latent() {
        return switch (latent.toLowerCase(Locale.ROOT)) {
            case "mean" -> ImageFeatures.Latent.MEAN;
            case "sample" -> ImageFeatures.Latent.SAMPLE;
            default -> throw new UnetlensException("--latent must be mean or sample, got '" + latent + "'");
        };
    }

    /** {@code --resize} and {@code --crop}; subclasses add other preparations. */
    Preprocess preprocess() {
        return new Preprocess(resize, crop, null);
    }

    /** The images, checked now (each decoded once), read again lazily when used. */
    ImageSet read(boolean skipBad) {
        return ImageSet.read(files, preprocess(), skipBad);
    }
}
