package dev.unetlens.cli;

import dev.unetlens.UnetlensException;
import dev.unetlens.io.RgbImage;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.Images;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.pipeline.TimeIds;
import dev.unetlens.schedule.SchedulerConfig;
import dev.unetlens.schedule.SchedulerKind;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/** The options of a txt2img / img2img run, shared by {@code generate}, {@code extract}, {@code diff} and {@code sweep}. */
public final class GenerationOptions {
    @Option(names = {"-n", "--negative-prompt"}, paramLabel = "TEXT",
            description = "Negative prompt (one for all prompts, or one per prompt).")
    List<String> negativePrompts;

    @Option(names = "--prompt-2", paramLabel = "TEXT", description = "SDXL: prompt for the second text encoder.")
    List<String> prompts2;

    @Option(names = "--negative-prompt-2", paramLabel = "TEXT", description = "SDXL: negative prompt for the second encoder.")
    List<String> negativePrompts2;

    @Option(names = "--scheduler", paramLabel = "NAME", converter = SchedulerConverter.class,
            description = "ddim, pndm, euler, euler-a, lms or dpmpp-2m (default: the model's own).")
    SchedulerKind scheduler;

    @Option(names = "--karras", description = "Karras sigmas (euler, lms and dpmpp-2m; the others have none).")
    boolean karras;

    @Option(names = "--timestep-spacing", paramLabel = "MODE", description = "leading, linspace or trailing (default: the model's).")
    String spacing;

    @Option(names = "--eta", paramLabel = "ETA", defaultValue = "0", description = "DDIM eta in [0, 1] (default: ${DEFAULT-VALUE}).")
    double eta;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "30",
            description = "Sampling steps (default: ${DEFAULT-VALUE}); pndm evaluates the U-Net twice in step 1, as diffusers.")
    int steps;

    @Option(names = "--guidance", paramLabel = "G", defaultValue = "7.5",
            description = "Classifier-free guidance scale; ≤ 1 runs no CFG batch (turbo models) (default: ${DEFAULT-VALUE}).")
    double guidance;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the torch CPU generator (default: a random one, recorded).")
    Long seed;

    @Option(names = "--height", paramLabel = "H", description = "Height in pixels, a multiple of 8 (default: the model's size).")
    Integer height;

    @Option(names = "--width", paramLabel = "W", description = "Width in pixels, a multiple of 8 (default: the model's size).")
    Integer width;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1", description = "Images per prompt (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--image", paramLabel = "FILE", description = "img2img: the input image.")
    Path image;

    @Option(names = "--strength", paramLabel = "S", defaultValue = "0.8", description = "img2img strength in (0, 1] (default: ${DEFAULT-VALUE}).")
    double strength;

    @Option(names = "--latents", paramLabel = "FILE", description = "txt2img: starting latents (.npy) instead of drawing them.")
    Path latents;

    @Option(names = "--original-size", paramLabel = "H,W", description = "SDXL micro-conditioning: original size.")
    String originalSize;

    @Option(names = "--crop-top-left", paramLabel = "Y,X", description = "SDXL micro-conditioning: crop offset.")
    String cropTopLeft;

    @Option(names = "--target-size", paramLabel = "H,W", description = "SDXL micro-conditioning: target size.")
    String targetSize;

    @Option(names = "--clip-skip", paramLabel = "K", defaultValue = "0",
            description = "Use the text encoder's output K layers before the last (default: ${DEFAULT-VALUE}).")
    int clipSkip;

    /** The request of {@code prompts} with these options, sizes defaulted from the model (or the img2img input). */
    GenerationRequest request(StableDiffusion sd, List<String> prompts) {
        return request(sd, prompts, seed());
    }

    /** The same with another seed ({@code analyze --prompts}: image i gets seed + i). */
    GenerationRequest request(StableDiffusion sd, List<String> prompts, long seed) {
        int h;
        int w;
        if (image != null && height == null && width == null) {
            int[] wh = Images.floorToMultiple(RgbImage.read(image), 8);
            w = wh[0];
            h = wh[1];
        } else {
            int[] d = defaultSize(sd);
            h = height != null ? height : d[0];
            w = width != null ? width : d[1];
        }
        GenerationRequest.Builder b = GenerationRequest.builder()
                .prompts(prompts).negativePrompts(negativePrompts).prompts2(prompts2).negativePrompts2(negativePrompts2)
                .sampler(new GenerationRequest.Sampler(scheduler, karras, spacing(), eta))
                .steps(steps).guidance(guidance).seed(seed).size(h, w).imagesPerPrompt(batch)
                .latents(latents).clipSkip(clipSkip);
        if (image != null) {
            b.img2img(image, strength);
        }
        if (originalSize != null || cropTopLeft != null || targetSize != null) {
            double[] o = pair("--original-size", originalSize, h, w);
            double[] c = pair("--crop-top-left", cropTopLeft, 0, 0);
            double[] t = pair("--target-size", targetSize, h, w);
            b.timeIds(new TimeIds(o[0], o[1], c[0], c[1], t[0], t[1]));
        }
        return b.build();
    }

    long seed() {
        if (seed == null) {
            seed = ThreadLocalRandom.current().nextLong(0, 1L << 32);
        }
        return seed;
    }

    /** The model's native size in pixels ({@code sample_size} × the VAE factor; 512 when the config has none). */
    private static int[] defaultSize(StableDiffusion sd) {
        List<Integer> s = sd.unet().config().sampleSize();
        int f = sd.vae().downscale();
        return s.isEmpty() ? new int[] {512, 512} : new int[] {s.getFirst() * f, s.getLast() * f};
    }

    private SchedulerConfig.Spacing spacing() {
        return spacing(spacing);
    }

    /** {@code --timestep-spacing}'s value, or null for the model's. */
    static SchedulerConfig.Spacing spacing(String spacing) {
        if (spacing == null) {
            return null;
        }
        try {
            return SchedulerConfig.Spacing.valueOf(spacing.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UnetlensException("--timestep-spacing must be leading, linspace or trailing, got '" + spacing + "'");
        }
    }

    private static double[] pair(String option, String text, double a, double b) {
        if (text == null) {
            return new double[] {a, b};
        }
        String[] p = text.split(",");
        try {
            if (p.length != 2) {
                throw new NumberFormatException();
            }
            double x = Double.parseDouble(p[0].strip());
            double y = Double.parseDouble(p[1].strip());
            if (x < 0 || y < 0 || Double.isInfinite(x) || Double.isInfinite(y)) {
                throw new NumberFormatException();
            }
            return new double[] {x, y};
        } catch (NumberFormatException e) {
            throw new UnetlensException(option + " takes two non-negative numbers like 1024,1024, got '" + text + "'");
        }
    }

    /** picocli converter: the scheduler's CLI name. */
    static final class SchedulerConverter implements CommandLine.ITypeConverter<SchedulerKind> {
        @Override
        public SchedulerKind convert(String value) {
            try {
                return SchedulerKind.fromCliName(value);
            } catch (RuntimeException e) {
                throw new CommandLine.TypeConversionException("unknown scheduler '" + value + "'; choose one of "
                        + SchedulerKind.cliNames());
            }
        }
    }
}
