package dev.unetlens.pipeline;

import dev.unetlens.UnetlensException;
import dev.unetlens.schedule.SchedulerConfig;
import dev.unetlens.schedule.SchedulerKind;

import java.nio.file.Path;
import java.util.List;

/**
 * Everything a txt2img or img2img run needs, validated on construction; the same record is written into the
 * output manifest.
 *
 * @param prompts           one or more prompts (the batch)
 * @param negativePrompts   one per prompt, or null for "no negative prompt" (diffusers' {@code None})
 * @param prompts2          SDXL's second-encoder prompts ({@code prompt_2}), or null
 * @param negativePrompts2  SDXL's {@code negative_prompt_2}, or null
 * @param sampler           scheduler choice and options
 * @param steps             number of inference steps, 1–1000
 * @param guidance          classifier-free guidance scale; ≤ 1 runs no CFG batch (SD-Turbo, SDXL-Turbo)
 * @param seed              seed of the torch CPU generator all random draws come from
 * @param height            image height in pixels, a positive multiple of 8
 * @param width             image width in pixels, a positive multiple of 8
 * @param imagesPerPrompt   images per prompt ({@code num_images_per_prompt})
 * @param initImage         img2img input image file, or null for txt2img
 * @param strength          img2img strength in (0, 1]
 * @param latents           initial latents file (.npy, [B, 4, h, w]) instead of drawing them (txt2img), or null
 * @param timeIds           SDXL micro-conditioning, or null for the defaults (original = target = size, no crop)
 * @param negativeTimeIds   SDXL negative micro-conditioning, or null for the same as {@code timeIds}
 * @param clipSkip          0 for none; k uses the text encoder's output k layers before the last
 */
public record GenerationRequest(List<String> prompts, List<String> negativePrompts, List<String> prompts2,
                                List<String> negativePrompts2, Sampler sampler, int steps, double guidance, long seed,
                                int height, int width, int imagesPerPrompt, Path initImage, double strength,
                                Path latents, TimeIds timeIds, TimeIds negativeTimeIds, int clipSkip) {

    /**
     * The scheduler and its options.
     *
     * @param kind     which scheduler; null for the model's own ({@code scheduler_config.json})
     * @param karras   use Karras sigmas (Euler, LMS, DPM++)
     * @param spacing  {@code timestep_spacing} override, or null for the config's
     * @param eta      DDIM η (0: deterministic)
     */
    public record Sampler(SchedulerKind kind, boolean karras, SchedulerConfig.Spacing spacing, double eta) {
        public static final Sampler DEFAULT = new Sampler(null, false, null, 0.0);

        public Sampler {
            if (!(eta >= 0 && eta <= 1)) {
                throw new UnetlensException("--eta must be in [0, 1], got " + eta);
            }
        }
    }

    public GenerationRequest {
        if (prompts == null || prompts.isEmpty()) {
            throw new UnetlensException("give at least one prompt");
        }
        prompts = List.copyOf(prompts);
        negativePrompts = sameCount("negative prompt", negativePrompts, prompts.size());
        prompts2 = sameCount("prompt 2", prompts2, prompts.size());
        negativePrompts2 = sameCount("negative prompt 2", negativePrompts2, prompts.size());
        if (sampler == null) {
            sampler = Sampler.DEFAULT;
        }
        if (steps < 1 || steps > 1000) {
            throw new UnetlensException("--steps must be in [1, 1000], got " + steps);
        }
        if (!(guidance >= 0) || Double.isInfinite(guidance)) {
            throw new UnetlensException("--guidance must be a finite number ≥ 0, got " + guidance);
        }
        checkSize("--height", height);
        checkSize("--width", width);
        if (imagesPerPrompt < 1 || imagesPerPrompt > 64) {
            throw new UnetlensException("--batch must be in [1, 64], got " + imagesPerPrompt);
        }
        if (initImage != null && !(strength > 0 && strength <= 1)) {
            throw new UnetlensException("--strength must be in (0, 1], got " + strength);
        }
        if (initImage != null && latents != null) {
            throw new UnetlensException("--latents gives txt2img's starting noise; it cannot be combined with --image");
        }
        if (clipSkip < 0 || clipSkip > 10) {
            throw new UnetlensException("--clip-skip must be in [0, 10], got " + clipSkip);
        }
    }

    private static List<String> sameCount(String what, List<String> list, int n) {
        if (list == null) {
            return null;
        }
        if (list.size() == 1 && n > 1) {
            return java.util.Collections.nCopies(n, list.getFirst());
        }
        if (list.size() != n) {
            throw new UnetlensException("give one " + what + " per prompt (or one for all): " + list.size()
                    + " for " + n + " prompts");
        }
        return java.util.Collections.unmodifiableList(new java.util.ArrayList<>(list));
    }

    private static void checkSize(String option, int v) {
        if (v <= 0 || v % 8 != 0 || v > 4096) {
            throw new UnetlensException(option + " must be a positive multiple of 8 up to 4096, got " + v);
        }
    }

    /** A builder with diffusers' defaults: 50 steps, guidance 7.5, seed 0, 512 × 512, one image per prompt. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this request's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.prompts = prompts;
        b.negativePrompts = negativePrompts;
        b.prompts2 = prompts2;
        b.negativePrompts2 = negativePrompts2;
        b.sampler = sampler;
        b.steps = steps;
        b.guidance = guidance;
        b.seed = seed;
        b.height = height;
        b.width = width;
        b.imagesPerPrompt = imagesPerPrompt;
        b.initImage = initImage;
        b.strength = strength;
        b.latents = latents;
        b.timeIds = timeIds;
        b.negativeTimeIds = negativeTimeIds;
        b.clipSkip = clipSkip;
        return b;
    }

    /** Builds requests field by field; {@link #build} validates. */
    public static final class Builder {
        private List<String> prompts;
        private List<String> negativePrompts;
        private List<String> prompts2;
        private List<String> negativePrompts2;
        private Sampler sampler = Sampler.DEFAULT;
        private int steps = 50;
        private double guidance = 7.5;
        private long seed;
        private int height = 512;
        private int width = 512;
        private int imagesPerPrompt = 1;
        private Path initImage;
        private double strength = 0.8;
        private Path latents;
        private TimeIds timeIds;
        private TimeIds negativeTimeIds;
        private int clipSkip;

        public Builder prompt(String p) { return prompts(List.of(p)); }
        public Builder prompts(List<String> p) { prompts = p; return this; }
        public Builder negativePrompt(String n) { return negativePrompts(n == null ? null : List.of(n)); }
        public Builder negativePrompts(List<String> n) { negativePrompts = n; return this; }
        public Builder prompt2(String p) { return prompts2(p == null ? null : List.of(p)); }
        public Builder prompts2(List<String> p) { prompts2 = p; return this; }
        public Builder negativePrompt2(String n) { return negativePrompts2(n == null ? null : List.of(n)); }
        public Builder negativePrompts2(List<String> n) { negativePrompts2 = n; return this; }
        public Builder sampler(Sampler s) { sampler = s; return this; }
        public Builder steps(int n) { steps = n; return this; }
        public Builder guidance(double g) { guidance = g; return this; }
        public Builder seed(long s) { seed = s; return this; }
        public Builder size(int h, int w) { height = h; width = w; return this; }
        public Builder imagesPerPrompt(int n) { imagesPerPrompt = n; return this; }
        public Builder img2img(Path image, double s) { initImage = image; strength = s; return this; }
        public Builder latents(Path file) { latents = file; return this; }
        public Builder timeIds(TimeIds t) { timeIds = t; return this; }
        public Builder negativeTimeIds(TimeIds t) { negativeTimeIds = t; return this; }
        public Builder clipSkip(int k) { clipSkip = k; return this; }

        public GenerationRequest build() {
            return new GenerationRequest(prompts, negativePrompts, prompts2, negativePrompts2, sampler, steps,
                    guidance, seed, height, width, imagesPerPrompt, initImage, strength, latents, timeIds,
                    negativeTimeIds, clipSkip);
        }
    }

    public boolean isImg2Img() {
        return initImage != null;
    }

    /** Whether the run has a classifier-free guidance batch (guidance &gt; 1, as diffusers decides). */
    public boolean cfg() {
        return guidance > 1;
    }

    /** Rows of the batch without CFG: prompts × images per prompt. */
    public int batch() {
        return prompts.size() * imagesPerPrompt;
    }
}
