package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.analysis.images.Preprocess;
import dev.unetlens.hook.BlockNames;
import dev.unetlens.hook.Selector;
import dev.unetlens.io.CacheDir;
import dev.unetlens.io.FileHashes;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.RunRecords;
import dev.unetlens.pipeline.StableDiffusion;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * What every {@code analyze} kind shares: the model, the images (files and folders, or generated from
 * {@code --prompts}), modules, timesteps and draws, the output directory and its manifest. Bad options fail before the
 * model loads; bad modules, sizes and tokens fail after it loads but before anything is written.
 */
abstract class AnalyzeKind implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    AttentionOption attention;

    @Mixin
    PrecisionOption precision;

    @ArgGroup(validate = false, heading = "%nImages, modules, timesteps and draws%n", exclusive = false)
    AnalysisOptions input = new AnalysisOptions();

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT",
            description = "The text the U-Net reads for every image (default: the empty prompt, as sdhelper's img2repr).")
    String prompt;

    @ArgGroup(validate = false, heading = "%nGenerating the images (--prompts, --generated)%n", exclusive = false)
    GenerationOptions generation = new GenerationOptions();

    @ArgGroup(validate = false, heading = "%nOutput%n", exclusive = false)
    OutputOptions output = new OutputOptions();

    /** The subcommand's name. */
    abstract String kind();

    /** Modules when {@code --at} is not given. */
    abstract String defaultModules();

    abstract List<Integer> defaultTimesteps();

    abstract int defaultSamples();

    /** Checks the kind's own options (no model yet). */
    void checkOptions(List<Integer> timesteps) {
    }

    /** Checks that need the maps' shapes at the first image's size (before anything is written). */
    void checkShapes(StableDiffusion sd, Sampling s, int width, int height) {
        FeatureStream.shapes(sd, s.points(), width, height);
    }

    /** Checks how many images the kind is given (before the model loads). */
    void checkImageCount(int n) {
    }

    /** Whether the kind can run without images (an alternative input of its own). */
    boolean hasOwnInput() {
        return false;
    }

    /** Runs and writes the kind's results; {@code images} is null only when {@link #hasOwnInput}. */
    abstract void run(StableDiffusion sd, ImageSet images, Sampling s, OutputDirectory out, ObjectNode request);

    @Override
    public Integer call() {
        dev.unetlens.model.Precision unetPrecision = precision.value();   // refused before any output
        List<Integer> timesteps = input.timesteps(defaultTimesteps());
        checkOptions(timesteps);
        if (input.promptsFile != null && input.given()) {
            throw new UnetlensException("give --images or --prompts, not both");
        }
        ImageSet images = input.given() ? input.read(input.skipBad) : null;
        List<String> prompts = input.promptsFile != null ? input.prompts() : null;
        if (images == null && prompts == null && !hasOwnInput()) {
            throw new UnetlensException("give --images (files or folders) or --prompts FILE");
        }
        if (images != null || prompts != null) {
            checkImageCount(images != null ? images.size() : prompts.size());
        }
        OutputDirectory out = openOutput();
        long t0 = System.nanoTime();
        attention.apply();
        try (StableDiffusion sd = model.load(unetPrecision)) {
            double load = (System.nanoTime() - t0) / 1e9;
            BlockNames blocks = BlockNames.of(sd.unet().config());
            List<String> points = Selector.resolve(input.at != null ? input.at : defaultModules(), sd.unet().hooks(), blocks);
            String condition = prompt == null ? "" : prompt;
            Sampling s = new Sampling(points, timesteps, input.samples(defaultSamples()), input.batchSize, generation.seed(),
                    condition, input.latent(), input.unitRange);
            int[] size = images != null ? new int[] {images.entry(0).width(), images.entry(0).height()} : generatedSize(sd);
            checkShapes(sd, s, size[0], size[1]);
            ObjectNode m = out.manifest();
            m.set("model", RunRecords.model(sd, new FileHashes(CacheDir.root())));
            m.set("versions", RunRecords.versions());
            ObjectNode request = JsonNodeFactory.instance.objectNode();
            request.put("model", sd.source().toString());
            if (prompts != null) {
                images = generate(sd, prompts, out, request);
            }
            if (images != null) {
                request.set("images", images.toJson());
                request.set("skipped", images.skippedJson());
                request.set("preprocess", preprocessJson(input.preprocess()));
            }
            ObjectNode req = s.toJson();
            req.setAll(request);
            m.set("request", req);
            run(sd, images, s, out, request);
            m.set("precision", RunRecords.precision(sd));
            m.putObject("seconds").put("load", load).put("total", (System.nanoTime() - t0) / 1e9);
            out.finish();
        }
        System.out.println("wrote " + out.dir());
        return 0;
    }

    /** The output directory, opened before the model loads. */
    OutputDirectory openOutput() {
        return output.open("analyze " + kind());
    }

    /** The size --prompts (or --generated) images will have. */
    int[] generatedSize(StableDiffusion sd) {
        GenerationRequest r = generation.request(sd, List.of("x"), 0);
        return new int[] {r.width(), r.height()};
    }

    /** Generates one image per prompt (seed + i), writes each to images/, and returns them as the image set. */
    private ImageSet generate(StableDiffusion sd, List<String> prompts, OutputDirectory out, ObjectNode request) {
        long seed = generation.seed();
        List<Path> files = new ArrayList<>();
        ArrayNode made = request.putArray("generated");
        Pipeline pipeline = new Pipeline(sd);
        for (int i = 0; i < prompts.size(); i++) {
            String prompt = prompts.get(i);
            long imageSeed = seed + i;
            GenerationRequest r = generation.request(sd, List.of(prompt), imageSeed);
            System.err.printf(Locale.ROOT, "generating image %d/%d (seed %d): %s%n", i + 1, prompts.size(), imageSeed, prompt);
            RgbImage img = pipeline.generate(r, new dev.unetlens.rng.TorchGenerator(r.seed()),
                    Pipeline.StepCallback.NONE, ConsoleProgress.forStderr()).images().getFirst();
            String name = String.format(Locale.ROOT, "images/%03d.png", i + 1);
            out.write(name, o -> img.writePng(o, Map.of("prompt", prompt, "seed", Long.toString(imageSeed))),
                    "generated image " + (i + 1) + ": " + prompt);
            files.add(out.resolve(name));
            made.addObject().put("file", name).put("prompt", prompt).put("seed", imageSeed).set("request", RunRecords.request(r));
        }
        return ImageSet.read(files, Preprocess.NONE, false);
    }

    static ObjectNode preprocessJson(Preprocess p) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        if (p.paper() != null) {
            o.put("paper", "skip if the shorter side < " + p.paper().minSide() + " px; centre box of 2·(s//2); PIL bicubic to "
                    + p.paper().size() + "²");
        }
        o.put("resize", p.resize());
        o.put("crop", p.crop());
        o.put("multiple_of_8", "sides cut to multiples of 8, centred");
        return o;
    }

    /** The default timestep t if it is among the timesteps, else the first. */
    static int defaultAmong(List<Integer> timesteps, int t) {
        return timesteps.contains(t) ? t : timesteps.getFirst();
    }
}
