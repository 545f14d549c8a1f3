package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.extract.Dumps;
import dev.unetlens.extract.GenerationFeatures;
import dev.unetlens.extract.ImageFeatures;
import dev.unetlens.extract.Spool;
import dev.unetlens.extract.ComponentFeatures;
import dev.unetlens.hook.BlockNames;
import dev.unetlens.hook.Component;
import dev.unetlens.hook.ModelHooks;
import dev.unetlens.hook.ModulePath;
import dev.unetlens.model.ForwardContext.RowLabel;
import dev.unetlens.hook.StepSelection;
import dev.unetlens.io.CacheDir;
import dev.unetlens.io.FileHashes;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;
import dev.unetlens.model.ForwardContext.Branch;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.RunRecords;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.pipeline.StepPlan;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import java.util.stream.Stream;

/**
 * {@code unetlens extract}: module outputs during a generation ({@code --prompt}) or for existing images at a
 * timestep over many noise draws ({@code --images}), written as self-describing npy / npz / safetensors files.
 */
@Command(name = "extract", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Extract module outputs (U-Net, text encoders, VAE) from a generation or from existing images.",
        description = {"Extract module outputs: at chosen steps of a generation (--prompt …), or for existing",
            "images at a timestep over many noise samples (--images …), where the U-Net reads --prompt's text (default:",
            "the empty prompt). Modules: diffusers paths (down_blocks[1], mid_block, …attn2:probs) or WebUI blocks",
            "(IN00-OUT11(+2), M00); other components' with theirs: text_encoder:text_model.encoder.layers.3,",
            "vae:decoder.up_blocks.0. The text encoders and the VAE run once, outside the steps: during a generation",
            "the prompts (and negative prompts) and the decoding of the final latents (img2img: also the encoding of",
            "the input), for --images the prompt and each image's encoding (decoder: of its posterior mean).",
            "See 'unetlens inspect [--component NAME]'."})
public final class ExtractCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Mixin
    AttentionOption attention;

    @Mixin
    PrecisionOption precision;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT",
            description = "Prompt of the generation to extract from (repeat for a batch); with --images, the one text the"
                    + " U-Net reads for every image (default: the empty prompt).")
    List<String> prompts;

    @Option(names = "--at", paramLabel = "NAMES",
            description = "Modules to extract: IN05, M00, IN00-OUT11(+2), down_blocks[1].attentions[0],"
                    + " vae:encoder.mid_block, … (comma-separated; default with --component: its stages).")
    String at;

    @Option(names = "--component", paramLabel = "NAME",
            description = "unet, text_encoder, text_encoder_2 or vae: the component of --at names that name none;"
                    + " without --at, its stages (blocks IN00…OUT11; embeddings, each layer, final norm; the VAE's"
                    + " blocks, as 'inspect --component' numbers them).")
    String component;

    @ArgGroup(validate = false, heading = "%nDuring a generation%n", exclusive = false)
    GenerationOptions generation = new GenerationOptions();

    @Option(names = "--at-steps", paramLabel = "SEL", description = "Steps to keep, from 1: '1,5-20(+5)' (default: all).")
    String atSteps;

    @Option(names = "--cfg-branch", paramLabel = "WHICH", defaultValue = "cond",
            description = "With CFG, keep the cond, uncond or both halves (default: ${DEFAULT-VALUE}).")
    String cfgBranch;

    @ArgGroup(validate = false, heading = "%nFor existing images%n", exclusive = false)
    ImageOptions images = new ImageOptions();

    @ArgGroup(validate = false, heading = "%nFiles%n", exclusive = false)
    DumpOptions dump = new DumpOptions();

    @ArgGroup(validate = false, heading = "%nOutput%n", exclusive = false)
    OutputOptions output = new OutputOptions();

    /** Options of the image mode (sdhelper's img2repr). */
    static final class ImageOptions extends ImageInputOptions {
        @Option(names = "--spatial-mean", description = "Average each map over its positions (shape samples × channels).")
        boolean spatialMean;
    }

    /** File options. */
    static final class DumpOptions {
        @Option(names = "--format", paramLabel = "FMT", defaultValue = "npy", description = "npy, npz or safetensors (default: ${DEFAULT-VALUE}).")
        String format;

        @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "f32", description = "f32 or f16 (default: ${DEFAULT-VALUE}).")
        String dtype;
    }

    @Override
    public Integer call() {
        dev.unetlens.model.Precision unetPrecision = precision.value();   // refused before any output
        Spool.Format format = format(dump.format);
        boolean half = switch (dump.dtype.toLowerCase(Locale.ROOT)) {
            case "f32", "float32" -> false;
            case "f16", "float16" -> true;
            default -> throw new UnetlensException("--dtype must be f16 or f32, got '" + dump.dtype + "'");
        };
        boolean imageMode = images.given();
        if (!imageMode && (prompts == null || prompts.isEmpty())) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "give --prompt (extract during a generation) or --images (extract from existing images)");
        }
        checkMode(imageMode);
        ImageSet inputs = imageMode ? images.read(false) : null;
        OutputDirectory out = output.open("extract");
        long t0 = System.nanoTime();
        attention.apply();
        try (StableDiffusion sd = model.load(unetPrecision)) {
            double load = (System.nanoTime() - t0) / 1e9;
            ModelHooks hooks = ModelHooks.of(sd);
            BlockNames blocks = hooks.blocks();
            List<ModulePath> points = points(sd, hooks);
            ObjectNode m = out.manifest();
            m.set("model", RunRecords.model(sd, new FileHashes(CacheDir.root())));
            m.set("versions", RunRecords.versions());
            m.set("points", m.arrayNode().addAll(points.stream().map(p -> m.textNode(p.qualified())).toList()));
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("tool", "unetlens extract");
            meta.put("model", sd.source().toString());
            GenerationRequest request = imageMode ? null : generation.request(sd, prompts);
            Set<Integer> steps = imageMode ? Set.of() : steps(sd, request);
            try (Dumps dumps = new Dumps(out, format, half, blocks, meta)) {
                dumps.withTexts(imageMode ? (c, row) -> prompts == null ? "" : prompts.getFirst() : texts(request));
                if (imageMode) {
                    imageMode(sd, points, inputs, dumps, m);
                } else {
                    generationMode(sd, request, steps, points, dumps, out);
                }
            }
            m.set("precision", RunRecords.precision(sd));
            m.putObject("seconds").put("load", load).put("total", (System.nanoTime() - t0) / 1e9);
            out.finish();
        }
        System.out.println("wrote " + out.dir());
        return 0;
    }

    /** The points --at names (in --component, or the U-Net, where a name has no component), or --component's stages. */
    private List<ModulePath> points(StableDiffusion sd, ModelHooks hooks) {
        Component c = component == null ? Component.UNET : Component.parse(component);
        hooks.table(c);
        if (at != null) {
            return hooks.resolve(at, c);
        }
        if (component == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "name the modules to extract with --at (or a component's stages with --component)");
        }
        List<String> stages = switch (c) {
            case UNET -> hooks.blocks().names().stream().map(b -> hooks.blocks().module(b).orElseThrow()).toList();
            case VAE -> Stream.concat(sd.vae().encoderStages().stream(), sd.vae().decoderStages().stream()).toList();
            case TEXT_ENCODER, TEXT_ENCODER_2 -> sd.prompts().stacks().get(c == Component.TEXT_ENCODER ? 0 : 1).encoder().stages();
        };
        return stages.stream().map(p -> new ModulePath(c, p)).toList();
    }

    /**
     * The text a text encoder's row read during a generation: the prompt (SDXL's second encoder: --prompt-2 where
     * given), or with CFG the negative prompt ("" where none is given).
     */
    private static BiFunction<Component, RowLabel, String> texts(GenerationRequest r) {
        return (c, row) -> {
            int p = row.prompt();
            boolean second = c == Component.TEXT_ENCODER_2;
            if (row.branch() == Branch.COND) {
                String p2 = second && r.prompts2() != null ? r.prompts2().get(p) : null;
                return p2 != null && !p2.isEmpty() ? p2 : r.prompts().get(p);
            }
            List<String> neg = r.negativePrompts();
            String n = neg == null ? "" : neg.get(p);
            String n2 = second && r.negativePrompts2() != null ? r.negativePrompts2().get(p) : null;
            return n2 != null && !n2.isEmpty() ? n2 : n;
        };
    }

    /** The 1-based steps to keep (empty: all), checked against the run's step count. */
    private Set<Integer> steps(StableDiffusion sd, GenerationRequest r) {
        int total = new Pipeline(sd).plan(r).steps();
        return atSteps == null ? Set.of() : new HashSet<>(StepSelection.parse(atSteps, total));
    }

    private void generationMode(StableDiffusion sd, GenerationRequest r, Set<Integer> steps, List<ModulePath> points,
                                Dumps dumps, OutputDirectory out) {
        ObjectNode m = out.manifest();
        StepPlan plan = new Pipeline(sd).plan(r);
        Set<Branch> branches = GenerationFeatures.branches(cfgBranch);
        m.put("mode", "generation");
        m.set("request", RunRecords.request(r));
        m.put("steps_total", plan.steps());
        m.put("at_steps", atSteps == null ? "all" : atSteps);
        m.put("cfg_branch", cfgBranch);
        int f = sd.vae().downscale();
        int[] latent = {r.height() / f, r.width() / f};
        ConsoleProgress progress = ConsoleProgress.forStderr();
        GenerationResult result;
        try (BlockProgress watch = BlockProgress.watch(sd, progress)) {
            result = new GenerationFeatures(sd).run(r, points, steps,
                    (c, step) -> dumps.generation(c, step, branches, latent), progress);
        }
        dumps.finish();
        images(out, result);
        m.set("scheduler", result.schedulerConfig());
        GenerateCommand.steps(m, result.steps());
    }

    /** The generated images, named as generate names them: what the dumped maps are of (attention over the image). */
    private static void images(OutputDirectory out, GenerationResult result) {
        int n = result.images().size();
        for (int i = 0; i < n; i++) {
            RgbImage img = result.images().get(i);
            ObjectNode e = out.write(GenerateCommand.imageName(i, n), o -> img.writePng(o, Map.of()),
                    "generated image " + (i + 1) + " of " + n);
            e.put("prompt_index", i / result.request().imagesPerPrompt());
        }
    }

    private void imageMode(StableDiffusion sd, List<ModulePath> all, ImageSet inputs, Dumps dumps, ObjectNode m) {
        List<String> points = all.stream().filter(p -> p.component() == Component.UNET).map(ModulePath::value).toList();
        long seed = generation.seed();
        String prompt = prompts == null ? "" : prompts.getFirst();
        ImageFeatures.Options o = points.isEmpty() ? null       // only the other components' stages
                : new ImageFeatures.Options(points, images.timestep(50), images.samples(1), images.batchSize, seed,
                        prompt, images.latent(), images.unitRange, images.spatialMean);
        m.put("mode", "images");
        ObjectNode req = m.putObject("request");
        req.set("images", m.arrayNode().addAll(inputs.entries().stream().map(e -> m.textNode(e.file().toAbsolutePath().toString())).toList()));
        req.put("timestep", images.timestep(50));
        req.put("samples", images.samples(1));
        req.put("batch_size", images.batchSize);
        req.put("seed", seed);
        req.put("rng", "noise sample k: torch.Generator('cpu').manual_seed(seed + k); draws: posterior ε (if sampled), then noise ε");
        req.put("prompt", prompt);
        req.put("latent", images.latent().name().toLowerCase(Locale.ROOT));
        req.put("pixel_range", images.unitRange ? "[0, 1]" : "[-1, 1]");
        req.put("resize", images.resize);
        req.put("crop", images.crop);
        req.put("spatial_mean", images.spatialMean);
        req.put("noise", "DDPM add_noise with the model's scheduler config: sqrt(acp[t])·x0 + sqrt(1−acp[t])·ε");
        List<ModulePath> others = all.stream().filter(p -> p.component() != Component.UNET).toList();
        if (!others.isEmpty()) {
            componentsOfImages(sd, others, inputs, prompt, dumps);
        }
        if (o == null) {
            return;
        }
        ImageFeatures features = new ImageFeatures(sd);
        int[] current = {-1};
        features.run(inputs.images(), o, (image, point, first, value) -> {
            if (current[0] >= 0 && current[0] != image) {
                dumps.finishImage(inputs.entry(current[0]).name());
            }
            current[0] = image;
            int f = sd.vae().downscale();
            int[] latentSize = {inputs.entry(image).height() / f, inputs.entry(image).width() / f};
            dumps.image(inputs.entry(image).name(), image, point, first, value, o.samples(), latentSize);
        }, ConsoleProgress.forStderr());
        if (current[0] >= 0) {
            dumps.finishImage(inputs.entry(current[0]).name());
        }
    }

    /** The text encoders' outputs for the prompt and the VAE's for each image, written as each image's are done. */
    private void componentsOfImages(StableDiffusion sd, List<ModulePath> points, ImageSet inputs, String prompt,
                                    Dumps dumps) {
        int f = sd.vae().downscale();
        int[] current = {-1};
        new ComponentFeatures(sd).run(inputs.images(), points, prompt, images.unitRange, (image, c) -> {
            if (image < 0) {
                dumps.generation(c, 0, Set.of(Branch.COND), null);
                return;
            }
            if (current[0] >= 0 && current[0] != image) {
                dumps.finishImage(inputs.entry(current[0]).name());
            }
            current[0] = image;
            int[] latentSize = {inputs.entry(image).height() / f, inputs.entry(image).width() / f};
            dumps.image(inputs.entry(image).name(), image, c.point(), 0, c.value(), 1, latentSize);
        });
        if (current[0] >= 0) {
            dumps.finishImage(inputs.entry(current[0]).name());
        }
        dumps.finish();
    }

    /**
     * Refuses options of the other mode, which would be ignored: generation options (but --seed) with --images, image
     * options without; and more than one prompt with --images (the U-Net reads one text for all images).
     */
    private void checkMode(boolean imageMode) {
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        for (CommandLine.Model.ArgGroupSpec g : spec.argGroups()) {
            Class<?> type = g.typeInfo().getType();
            boolean other = imageMode ? type == GenerationOptions.class : type == ImageOptions.class;
            for (CommandLine.Model.OptionSpec o : g.options()) {
                if (other && parsed.hasMatchedOption(o) && !o.longestName().equals("--seed")) {
                    throw new CommandLine.ParameterException(spec.commandLine(), o.longestName() + (imageMode
                            ? " applies to extraction during a generation (--prompt); --images runs none"
                            : " applies to extraction from --images; without it, extract runs a generation"));
                }
            }
        }
        for (String o : List.of("--at-steps", "--cfg-branch")) {
            if (imageMode && parsed.hasMatchedOption(o)) {
                throw new CommandLine.ParameterException(spec.commandLine(), o
                        + " applies to extraction during a generation (--prompt); --images runs none");
            }
        }
        if (imageMode && prompts != null && prompts.size() > 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "with --images the U-Net reads one text for"
                    + " every image; give one --prompt (or none for the empty prompt), got " + prompts.size());
        }
    }

    private static Spool.Format format(String f) {
        try {
            return Spool.Format.valueOf(f.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UnetlensException("--format must be npy, npz or safetensors, got '" + f + "'");
        }
    }
}
