package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.intervene.Edit;
import dev.unetlens.intervene.Intervention;
import dev.unetlens.intervene.Recording;
import dev.unetlens.intervene.TextEdit;
import dev.unetlens.io.CacheDir;
import dev.unetlens.io.FileHashes;
import dev.unetlens.io.Npy;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.hook.StepSelection;
import dev.unetlens.pipeline.RunRecords;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.pipeline.StepPlan;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code unetlens generate}: txt2img or img2img, as diffusers computes it; with per-block prompts when a prompt uses
 * Dump U-Net's {@code (~: … :~)} syntax, and with {@code --edit}s of module outputs.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Generate images (txt2img, img2img) with diffusers' numbers and seeds.",
        description = {"Generate images (txt2img, or img2img with --image) with diffusers' numbers",
            "and seeds. Writes image.png (A1111 'parameters' in a PNG text chunk),",
            "latents.npy and manifest.json.",
            "",
            "Layer prompts (Dump U-Net) give U-Net blocks their own text:",
            "  a (~: IN00-OUT11: cute ; M00: excellent :~) girl",
            "Between (~: and :~), BLOCKS: TEXT pairs separated by ';'. BLOCKS: IN05,",
            "IN00,IN01, IN00-OUT11(+2), or _ for every block no other pair names.",
            "Later pairs win; spaces inside ': TEXT ;' are kept. Negative prompts may",
            "use it too. Blocks without cross-attention (IN00, the downsamplers,",
            "resnet-only levels) read no text: a layer prompt there has no effect.",
            "SDXL's pooled embeds and time ids stay the plain prompt's (groups removed)."})
public final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    AttentionOption attention;

    @Mixin
    PromptOption prompt;

    @Mixin
    PrecisionOption precision;

    @ArgGroup(validate = false, heading = "%nGeneration%n", exclusive = false)
    GenerationOptions generation = new GenerationOptions();

    @ArgGroup(validate = false, heading = "%nInterventions%n", exclusive = false)
    InterventionOptions interventions = new InterventionOptions();

    @ArgGroup(validate = false, heading = "%nText edits%n", exclusive = false)
    TextEditOptions textEdits = new TextEditOptions();

    @ArgGroup(validate = false, heading = "%nTrajectory%n", exclusive = false)
    Trajectory trajectory = new Trajectory();

    @ArgGroup(validate = false, heading = "%nOutput%n", exclusive = false)
    OutputOptions output = new OutputOptions();

    /** {@code --previews}. */
    static final class Trajectory {
        @Option(names = "--previews", paramLabel = "STEPS", arity = "0..1", fallbackValue = "all", description = {
            "For these steps (from 1, like 1,5-20(+5); alone: every step) write the predicted",
            "x0 decoded by the VAE and the latents' channels, and a strip of them (previews/)."})
        String previews;

        /** The 1-based steps to preview, or none. */
        java.util.Set<Integer> steps(int total) {
            if (previews == null) {
                return java.util.Set.of();
            }
            try {
                return new java.util.TreeSet<>(previews.strip().equalsIgnoreCase("all")
                        ? java.util.stream.IntStream.rangeClosed(1, total).boxed().toList()
                        : StepSelection.parse(previews, total));
            } catch (dev.unetlens.UnetlensException e) {
                throw new dev.unetlens.UnetlensException("--previews: " + e.getMessage());
            }
        }
    }

    @Override
    public Integer call() {
        dev.unetlens.model.Precision unetPrecision = precision.value();   // refused before any output
        List<Edit> edits = interventions.parse();
        interventions.checkSource(edits);
        List<TextEdit> text = textEdits.parse();
        OutputDirectory out = output.open("generate");
        long t0 = System.nanoTime();
        attention.apply();
        try (StableDiffusion sd = model.load(unetPrecision)) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            GenerationRequest request = generation.request(sd, prompt.prompts());
            java.util.Set<Integer> previewSteps = trajectory.steps(new Pipeline(sd).plan(request).steps());
            ConsoleProgress progress = ConsoleProgress.forStderr();
            try (BlockProgress watch = BlockProgress.watch(sd, progress);
                 Intervention iv = Intervention.prepare(sd, request, edits, text);
                 Recording source = interventions.recordSource(iv, progress)) {
                InterventionRecords.warn(iv, System.err);
                PreviewWriter previews = previewSteps.isEmpty() ? null : new PreviewWriter(out, sd, previewSteps);
                GenerationResult result = iv.generate(source, null, previews == null ? Pipeline.StepCallback.NONE : previews,
                        progress);
                write(out, sd, result, loadSeconds, InterventionRecords.summary(iv));
                if (previews != null) {
                    previews.finish();
                }
                InterventionRecords.describe(out.manifest(), iv, source == null ? null : interventions.sourceRequest(request));
                out.finish();
            }
            System.out.println("wrote " + out.dir());
        }
        return 0;
    }

    /**
     * The steps into a manifest: {@code timesteps} (one per step), and where PNDM evaluates the U-Net once more than
     * the steps, {@code unet_evaluations} with each evaluation's timestep and a note saying why.
     */
    static void steps(ObjectNode m, StepPlan plan) {
        m.set("timesteps", m.arrayNode().addAll(java.util.Arrays.stream(plan.stepTimesteps()).mapToObj(m::numberNode).toList()));
        if (plan.evaluations() != plan.steps()) {
            ObjectNode e = m.putObject("unet_evaluations");
            e.put("count", plan.evaluations());
            e.set("timesteps", m.arrayNode().addAll(java.util.Arrays.stream(plan.evaluationTimesteps())
                    .mapToObj(m::numberNode).toList()));
            e.put("note", plan.note());
        }
    }

    /** Writes a run's images, final latents and manifest. */
    static void write(OutputDirectory out, StableDiffusion sd, GenerationResult result, double loadSeconds) {
        write(out, sd, result, loadSeconds, List.of());
    }

    /** {@link #write(OutputDirectory, StableDiffusion, GenerationResult, double)}, the PNGs naming the run's edits. */
    static void write(OutputDirectory out, StableDiffusion sd, GenerationResult result, double loadSeconds,
                      List<String> edits) {
        GenerationRequest r = result.request();
        FileHashes hashes = new FileHashes(CacheDir.root());
        ObjectNode m = out.manifest();
        m.set("model", RunRecords.model(sd, hashes));
        m.set("precision", RunRecords.precision(sd));
        m.set("request", RunRecords.request(r));
        m.set("scheduler", result.schedulerConfig());
        steps(m, result.steps());
        m.set("versions", RunRecords.versions());
        ObjectNode secs = m.putObject("seconds");
        secs.put("load", loadSeconds);
        secs.put("text", result.seconds().text());
        secs.put("denoise", result.seconds().denoise());
        secs.put("decode", result.seconds().decode());
        if (!result.truncated().isEmpty()) {
            m.set("truncated_prompt_text", m.arrayNode().addAll(result.truncated().stream().map(m::textNode).toList()));
            result.truncated().forEach(t -> System.err.println("unetlens: warning: CLIP reads 77 tokens; this part of a prompt was cut: " + t));
        }
        // A1111's "Model hash" is the checkpoint's SHA-256; for a diffusers folder, the U-Net file's
        String hash = hashes.sha256(sd.weightFiles().stream()
                .filter(p -> p.getParent() != null && p.getParent().getFileName().toString().equals("unet"))
                .findFirst().orElse(sd.weightFiles().getFirst()));
        String modelName = java.nio.file.Files.isDirectory(sd.source()) ? sd.source().getFileName().toString()
                : sd.source().getFileName().toString().replaceFirst("\\.[^.]*$", "");   // A1111: the file's stem
        int n = result.images().size();
        for (int i = 0; i < n; i++) {
            RgbImage img = result.images().get(i);
            String name = imageName(i, n);
            String params = RunRecords.a1111(r, result, i, modelName, hash,
                    result.schedulerConfig().get("_class_name").asText(), sd.loras(), edits, sd.unet().precision());
            ObjectNode e = out.write(name, o -> img.writePng(o, Map.of("parameters", params)),
                    "generated image " + (i + 1) + " of " + n);
            e.put("prompt_index", i / r.imagesPerPrompt());
            e.put("width", img.width());
            e.put("height", img.height());
        }
        ObjectNode lat = out.write("latents.npy", o -> o.write(Npy.toBytes(result.finalLatents())),
                "final latents after the last step, [batch, channels, height/8, width/8], float32");
        lat.set("shape", m.arrayNode().addAll(java.util.Arrays.stream(result.finalLatents().shape()).mapToObj(m::numberNode).toList()));
        out.saveManifest();
    }

    /** The file of generated image i of n: image.png alone, else image-000.png, image-001.png, … */
    static String imageName(int i, int n) {
        return n == 1 ? "image.png" : String.format("image-%03d.png", i);
    }
}
