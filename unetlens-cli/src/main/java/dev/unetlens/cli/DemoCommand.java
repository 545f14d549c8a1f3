package dev.unetlens.cli;

import dev.unetlens.hook.BlockNames;
import dev.unetlens.hook.HookScope;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.rng.TorchGenerator;
import dev.unetlens.synth.BundledModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code unetlens demo}: the main job on the bundled tiny model, which needs nothing from outside the repository:
 * a txt2img run with CFG, written as {@code generate} writes it.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        header = "Run the main job on the bundled tiny model: txt2img with pictures.",
        description = {"Run the main job on the bundled tiny random-weight SD 1.5-structured model (written on first",
            "use): txt2img with classifier-free guidance, with feature grids and step strips (OUT11, M00), a",
            "cross-attention grid (OUT03) and DAAM word heat maps; writes images, latents, pictures and manifest.json",
            "into --out (default: demo-out in the current directory)."})
public final class DemoCommand implements Callable<Integer> {
    static final String PROMPT = "a watercolor painting of a lighthouse at dusk";

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "demo-out",
            description = "Directory to write into (created; must be empty unless --force) (default: ${DEFAULT-VALUE}).")
    Path outDir;

    @Option(names = "--force", description = "Replace the outputs of an earlier run in --out.")
    boolean force;

    @Override
    public Integer call() {
        OutputDirectory out = OutputDirectory.open(outDir, "demo", force);
        System.err.println("unetlens: demo on the bundled tiny model (random weights: expect colourful noise, not a lighthouse)");
        long t0 = System.nanoTime();
        Path modelPath = BundledModel.ensure();
        try (StableDiffusion sd = StableDiffusion.load(modelPath, StableDiffusion.Options.DEFAULT)) {
            double load = (System.nanoTime() - t0) / 1e9;
            GenerationRequest request = GenerationRequest.builder().prompt(PROMPT).negativePrompt("blurry")
                    .steps(20).guidance(7.5).seed(1234).size(256, 256).build();
            Pipeline pipeline = new Pipeline(sd);
            int steps = pipeline.plan(request).steps();
            BlockNames blocks = BlockNames.of(sd.unet().config());
            List<String> features = List.of(blocks.module("OUT11").orElseThrow(), blocks.module("M00").orElseThrow());
            String attention = blocks.module("OUT03").orElseThrow() + ".transformer_blocks.0.attn2";
            RunPictures pictures = new RunPictures(sd, request, steps, new RunPictures.Plan(features,
                    Set.of(1, steps / 4, steps / 2, 3 * steps / 4, steps), attention, List.of("lighthouse", "dusk", "watercolor")));
            GenerationResult result;
            ConsoleProgress progress = ConsoleProgress.forStderr();
            try (BlockProgress watch = BlockProgress.watch(sd, progress);
                 HookScope scope = HookScope.open(sd.unet().hooks())) {
                pictures.install(scope);
                result = pipeline.generate(request, new TorchGenerator(request.seed()), Pipeline.StepCallback.NONE,
                        progress);
            }
            GenerateCommand.write(out, sd, result, load);
            pictures.write(out, result);
        }
        out.finish();
        System.out.println("wrote " + out.dir());
        return 0;
    }
}
