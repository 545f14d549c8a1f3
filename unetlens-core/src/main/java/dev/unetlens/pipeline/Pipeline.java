package dev.unetlens.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.RgbImage;
import dev.unetlens.model.ForwardContext;
import dev.unetlens.model.ForwardContext.Branch;
import dev.unetlens.model.ForwardContext.RowLabel;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.Tensors;
import dev.unetlens.model.unet.UNetInput;
import dev.unetlens.model.vae.DiagonalGaussian;
import dev.unetlens.rng.NoiseSource;
import dev.unetlens.rng.TorchGenerator;
import dev.unetlens.schedule.Scheduler;
import dev.unetlens.schedule.SchedulerConfig;
import dev.unetlens.schedule.SchedulerKind;
import dev.unetlens.schedule.StepOptions;
import dev.unetlens.schedule.StepOutput;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * txt2img and img2img with classifier-free guidance, as diffusers' StableDiffusion(XL)(Img2Img)Pipeline
 * {@code __call__}, with the same random draws in the same order from one torch CPU generator, so a seed gives
 * diffusers' image:
 *
 * <ol>
 *   <li>encode the prompts (and the negative side when guidance &gt; 1);</li>
 *   <li>set the scheduler's timesteps (img2img: start at {@code beginIndexForStrength});</li>
 *   <li>initial latents: txt2img draws {@code randn(B, C, h, w)} (or takes {@code --latents}) and scales it by
 *       {@code init_noise_sigma}; img2img draws the VAE posterior's ε, then the noise, and adds the noise at the
 *       first executed timestep with the scheduler's own {@code add_noise};</li>
 *   <li>each step: [uncond, cond] batch → U-Net → {@code u + g·(c − u)} → scheduler step (Euler and Euler
 *       ancestral draw one noise tensor per step);</li>
 *   <li>decode {@code latents / scaling_factor} and post-process to uint8.</li>
 * </ol>
 */
public final class Pipeline {
    private final StableDiffusion sd;

    /** Called after every sampling step (0-based {@code step}) with the latents it produced (valid only during the call). */
    @FunctionalInterface
    public interface StepCallback {
        void onStep(int step, int totalSteps, double timestep, NDArray latents);

        /**
         * Whether {@link #onPrediction} is wanted: the scheduler's x̂₀ where it computes one, else (PNDM) x̂₀ computed
         * from the model output ({@link #predictedOriginal}).
         */
        default boolean wantsPrediction() {
            return false;
        }

        /**
         * x̂₀ [B, C, h, w] of the evaluation that completes a step, the estimate of the clean latents at that step, just
         * before {@link #onStep}; valid only during the call.
         */
        default void onPrediction(int step, NDArray predictedOriginal) {
        }

        StepCallback NONE = (s, n, t, l) -> { };
    }

    public Pipeline(StableDiffusion sd) {
        this.sd = sd;
    }

    /** Runs a request with the torch generator seeded from the request. */
    public GenerationResult generate(GenerationRequest r) {
        return generate(r, new TorchGenerator(r.seed()), StepCallback.NONE, Progress.NONE);
    }

    /** Runs a request drawing every random tensor from {@code noise}. */
    public GenerationResult generate(GenerationRequest r, NoiseSource noise, StepCallback callback, Progress progress) {
        checkFits(r);
        try (NDManager run = sd.manager().newSubManager()) {
            long t0 = System.nanoTime();
            Conditioning cond = conditioning(run, r);
            NDArray timeIds = sd.family() == ModelFamily.SDXL ? timeIds(run, r) : null;
            long t1 = System.nanoTime();

            Scheduler scheduler = scheduler(r);
            int begin = begin(r, scheduler);
            StepPlan plan = plan(scheduler, begin);
            double[] timesteps = scheduler.timesteps();
            NDArray latents = initialLatents(run, r, scheduler, begin, noise);
            progress.start("denoising", plan.steps());
            for (int e = 0; e < plan.evaluations(); e++) {
                int i = begin + e;
                ForwardContext fc = new ForwardContext(plan.stepOf(e), e, plan.isWarmup(e), timesteps[i], rowLabels(r));
                try (ForwardScope scope = new ForwardScope()) {
                    StepOutput out = step(r, scheduler, i, fc, latents, cond, timeIds, noise, callback.wantsPrediction());
                    if (plan.completesStep(e) && callback.wantsPrediction()) {
                        callback.onPrediction(plan.stepOf(e), out.predOriginalSample());
                    }
                    latents = scope.keep(out.prevSample());
                }
                if (plan.completesStep(e)) {
                    double t = plan.stepTimesteps()[plan.stepOf(e)];
                    callback.onStep(plan.stepOf(e), plan.steps(), t, latents);
                    progress.advance(plan.stepOf(e) + 1, "t=" + formatT(t) + (plan.isWarmup(e)
                            ? " (2 U-Net evaluations: PNDM's warm-up)" : ""));
                }
            }
            progress.finish();
            long t2 = System.nanoTime();

            NDArray decoded;
            progress.start("decoding", 0);
            try (ForwardScope scope = new ForwardScope()) {
                NDArray z = latents.div(sd.vae().scalingFactor());
                decoded = scope.keep(sd.vae().hooks().during(imageRows(r), () -> sd.vae().decode(z)));
            }
            progress.finish();
            List<RgbImage> images = ImageProcessor.toImages(decoded);
            long t3 = System.nanoTime();
            return new GenerationResult(r, images, Tensors.toNpy(latents), Tensors.toNpy(decoded), plan,
                    resolvedConfig(r, scheduler), sd.prompts().truncated(r.prompts()),
                    new GenerationResult.Timings((t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9));
        }
    }

    /** Refuses what this model cannot do with a request: second-encoder prompts for a model with one text encoder. */
    private void checkFits(GenerationRequest r) {
        if (sd.family() != ModelFamily.SDXL && (r.prompts2() != null || r.negativePrompts2() != null)) {
            throw new UnetlensException("--prompt-2 and --negative-prompt-2 are for SDXL's second text encoder; this "
                    + sd.family() + " model has one text encoder, so leave them out");
        }
    }

    static String formatT(double t) {
        return t == Math.rint(t) ? Long.toString((long) t) : String.format("%.2f", t);
    }

    /** The steps and U-Net evaluations a request runs ({@link StepPlan}: img2img runs fewer steps, PNDM one more evaluation). */
    public StepPlan plan(GenerationRequest r) {
        Scheduler s = scheduler(r);
        return plan(s, begin(r, s));
    }

    private static StepPlan plan(Scheduler s, int begin) {
        double[] t = s.timesteps();
        double[] executed = java.util.Arrays.copyOfRange(t, begin, t.length);
        return new StepPlan(executed, s.redoesFirstStep() && executed.length > 1 ? 1 : -1);
    }

    /** The index of the first executed timestep (img2img: by the strength), checked to leave a step to run. */
    private static int begin(GenerationRequest r, Scheduler s) {
        int begin = r.isImg2Img() ? s.beginIndexForStrength(r.strength()) : 0;
        if (begin >= s.timesteps().length) {
            throw new UnetlensException("--strength " + r.strength() + " with --steps " + r.steps()
                    + " leaves no step to run; raise one of them");
        }
        return begin;
    }

    /** Prompt embeds of the batch: [negative × B, positive × B] with CFG, each prompt repeated per image. */
    Conditioning conditioning(NDManager m, GenerationRequest r) {
        PromptEncoder enc = sd.prompts();
        Conditioning pos = enc.encode(m, r.prompts(), r.prompts2(), r.clipSkip());
        if (!r.cfg()) {
            return pos.repeatRows(r.imagesPerPrompt());
        }
        Conditioning neg = enc.negative(m, r.negativePrompts(), r.negativePrompts2(), pos, sd.forceZerosForEmptyPrompt());
        return Conditioning.concat(neg.repeatRows(r.imagesPerPrompt()), pos.repeatRows(r.imagesPerPrompt()));
    }

    /**
     * SDXL's add_time_ids: without CFG one positive row per image; with CFG diffusers builds
     * {@code cat([negative, positive]).repeat(B, 1)}, i.e. rows alternate negative, positive — which matches the
     * [negatives…, positives…] embeds only for B = 1 or when both rows are equal (the default). Reproduced as is.
     */
    NDArray timeIds(NDManager m, GenerationRequest r) {
        TimeIds pos = r.timeIds() != null ? r.timeIds() : TimeIds.defaults(r.height(), r.width());
        TimeIds neg = r.negativeTimeIds() != null ? r.negativeTimeIds() : pos;
        int n = r.batch();
        List<float[]> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (r.cfg()) {
                rows.add(neg.values());
            }
            rows.add(pos.values());
        }
        float[] flat = new float[rows.size() * 6];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, flat, i * 6, 6);
        }
        return m.create(flat, new Shape(rows.size(), 6));
    }

    /** The scheduler: the request's kind (or the model's own) built from the model's config with the overrides. */
    Scheduler scheduler(GenerationRequest r) {
        return scheduler(sd.schedulerConfig(), r.sampler(), r.steps());
    }

    /**
     * The scheduler a run with {@code sampler} and {@code steps} uses on a model whose scheduler config is
     * {@code modelConfig}: the sampler's kind (or the model's own) built from that config with the sampler's overrides
     * (Karras sigmas, timestep spacing), its timesteps set.
     */
    public static Scheduler scheduler(JsonConfig modelConfig, GenerationRequest.Sampler sampler, int steps) {
        SchedulerConfig config = SchedulerConfig.parse(modelConfig, sampler.kind(), overrides(sampler));
        if (sampler.karras() && !config.kind().takesKarrasSigmas()) {
            throw new UnetlensException("--karras changes the sigmas of " + SchedulerKind.karrasNames() + "; this run's"
                    + " scheduler is " + config.kind() + (sampler.kind() == null ? " (the model's own)" : "")
                    + ", which has none: choose one of those with --scheduler, or leave --karras out");
        }
        Scheduler scheduler = Scheduler.create(config, StepOptions.DEFAULT.withEta(sampler.eta()));
        scheduler.setTimesteps(steps);
        return scheduler;
    }

    /** The request's changes to the model's scheduler config ({@code from_config(config, **overrides)}). */
    private static Map<String, Object> overrides(GenerationRequest.Sampler sampler) {
        Map<String, Object> overrides = new LinkedHashMap<>();
        if (sampler.karras()) {
            overrides.put("use_karras_sigmas", true);
        }
        if (sampler.spacing() != null) {
            overrides.put("timestep_spacing", sampler.spacing().name().toLowerCase(java.util.Locale.ROOT));
        }
        return overrides;
    }

    private NDArray initialLatents(NDManager m, GenerationRequest r, Scheduler scheduler, int begin, NoiseSource noise) {
        int f = sd.vae().downscale();
        Shape shape = new Shape(r.batch(), sd.unet().config().inChannels(), r.height() / f, r.width() / f);
        if (!r.isImg2Img()) {
            NDArray x = r.latents() != null ? givenLatents(m, r, shape) : noise.randn(m, shape);
            return x.mul(scheduler.initNoiseSigma());
        }
        RgbImage image = Images.fit(RgbImage.read(r.initImage()), r.width(), r.height());
        try (ForwardScope scope = new ForwardScope()) {
            NDArray pixels = ImageProcessor.toTensor(m, List.of(image));                 // [1, 3, H, W]
            DiagonalGaussian posterior = sd.vae().hooks().during(new ForwardContext(-1, Double.NaN,
                    List.of(new RowLabel(Branch.COND, 0, 0))), () -> sd.vae().encode(pixels));
            NDArray z = posterior.sample(noise.randn(m, posterior.mean().getShape()));  // draw 1: posterior ε
            NDArray init = z.mul(sd.vae().scalingFactor());
            if (r.batch() > 1) {
                init = init.repeat(0, r.batch());                                      // one image for the batch
            }
            NDArray n = noise.randn(m, shape);                                          // draw 2: the noise
            return scope.keep(scheduler.addNoise(init, n, begin));
        }
    }

    private static NDArray givenLatents(NDManager m, GenerationRequest r, Shape shape) {
        NpyArray a = readLatents(r.latents());
        if (!new Shape(a.shape()).equals(shape)) {
            throw new UnetlensException(r.latents() + ": latents of shape " + new Shape(a.shape()) + " do not fit this run,"
                    + " which needs " + shape + " (batch × channels × height/8 × width/8)");
        }
        return m.create(a.toFloats(), shape);
    }

    /**
     * Starting latents from a {@code .npy}: float32 as they are; float16, bfloat16 and float64 converted to float32 (the
     * model computes in float32; diffusers casts them too) with a note on stderr; anything else refused.
     */
    private static NpyArray readLatents(java.nio.file.Path file) {
        NpyArray a = Npy.read(file);
        if (!a.dtype().isFloat()) {
            throw new UnetlensException(file + ": --latents must hold floating-point values, this file has "
                    + a.dtype().name().toLowerCase(java.util.Locale.ROOT));
        }
        if (a.dtype() != dev.unetlens.io.DType.F32) {
            System.err.println("unetlens: note: " + file + " holds " + a.dtype().name().toLowerCase(java.util.Locale.ROOT)
                    + " latents; converted to float32, in which the model computes");
        }
        return a;
    }

    /**
     * One U-Net evaluation (timestep index {@code i}): the guided noise prediction and the scheduler update; with
     * {@code predict}, x̂₀ where the scheduler has none.
     */
    private StepOutput step(GenerationRequest r, Scheduler scheduler, int i, ForwardContext fc, NDArray latents,
                            Conditioning cond, NDArray timeIds, NoiseSource noise, boolean predict) {
        double t = scheduler.timesteps()[i];
        NDArray in = r.cfg() ? latents.concat(latents, 0) : latents;                  // [2B or B, C, h, w]
        in = scheduler.scaleModelInput(in, i);
        sd.unet().hooks().setContext(fc);
        NDArray eps;
        try {
            UNetInput input = UNetInput.of(in, t, cond.promptEmbeds());
            if (cond.pooled() != null) {
                input = input.withAddedCond(cond.pooled(), timeIds);
            }
            eps = sd.unet().forward(input);
        } finally {
            sd.unet().hooks().setContext(ForwardContext.NONE);
        }
        if (r.cfg()) {
            NDList halves = eps.split(2, 0);
            NDArray u = halves.get(0);
            NDArray c = halves.get(1);
            eps = u.add(c.sub(u).mul((float) r.guidance()));                            // u + g·(c − u)
        }
        StepOutput out = scheduler.step(eps, i, latents, noise);
        if (predict && out.predOriginalSample() == null) {
            return new StepOutput(out.prevSample(), predictedOriginal(scheduler, i, latents, eps));
        }
        return out;
    }

    /**
     * x̂₀ of sample x_t and model output m at timestep index {@code i} of an ᾱ scheduler (PNDM, which has none of its
     * own), as DDIM's step computes it: ε-prediction (x_t − √(1−ᾱ_t)·m)/√ᾱ_t, v-prediction √ᾱ_t·x_t − √(1−ᾱ_t)·m,
     * sample-prediction m; coefficients in float32.
     */
    static NDArray predictedOriginal(Scheduler scheduler, int i, NDArray sample, NDArray output) {
        float a = scheduler.config().noise().alphasCumprod()[(int) scheduler.timesteps()[i]];
        float sa = (float) Math.sqrt(a);
        float sb = (float) Math.sqrt(1f - a);
        return switch (scheduler.config().prediction()) {
            case EPSILON -> sample.sub(output.mul(sb)).div(sa);
            case V_PREDICTION -> sample.mul(sa).sub(output.mul(sb));
            case SAMPLE -> output;
        };
    }

    /** What hooks on the VAE see while it decodes a run's latents: one conditional row per image. */
    static ForwardContext imageRows(GenerationRequest r) {
        return new ForwardContext(-1, Double.NaN, rowLabels(r).stream().filter(l -> l.branch() == Branch.COND).toList());
    }

    /** Row labels of the U-Net batch: [uncond × B, cond × B] with CFG; prompt-major, then image. */
    static List<RowLabel> rowLabels(GenerationRequest r) {
        List<RowLabel> rows = new ArrayList<>();
        List<Branch> branches = r.cfg() ? List.of(Branch.UNCOND, Branch.COND) : List.of(Branch.COND);
        for (Branch b : branches) {
            for (int p = 0; p < r.prompts().size(); p++) {
                for (int k = 0; k < r.imagesPerPrompt(); k++) {
                    rows.add(new RowLabel(b, p, k));
                }
            }
        }
        return rows;
    }

    /** The scheduler as run: the model's config with the overrides, its class, and what it resolved to. */
    private ObjectNode resolvedConfig(GenerationRequest r, Scheduler s) {
        ObjectNode n = SchedulerConfig.withOverrides(sd.schedulerConfig(), overrides(r.sampler())).node().deepCopy();
        n.put("_class_name", s.kind().diffusersClass());
        n.put("timestep_spacing", s.config().spacing().name().toLowerCase(java.util.Locale.ROOT));
        n.put("prediction_type", s.config().prediction().name().toLowerCase(java.util.Locale.ROOT));
        n.put("num_inference_steps", s.numInferenceSteps());
        n.put("init_noise_sigma", s.initNoiseSigma());
        n.put("eta", r.sampler().eta());
        return n;
    }
}
