package dev.unetlens.extract;

import dev.unetlens.hook.Capture;
import dev.unetlens.hook.ModelHooks;
import dev.unetlens.hook.ModelScope;
import dev.unetlens.hook.ModulePath;
import dev.unetlens.model.ForwardContext.Branch;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.rng.TorchGenerator;

import java.util.List;
import java.util.Set;

/**
 * Module outputs at chosen steps of a generation: a normal txt2img / img2img run with captures on the chosen
 * points of any component, streamed to a sink as each step produces them; with CFG the conditional and
 * unconditional rows are kept apart and labelled. The text encoders run before the steps (the prompts, then with CFG
 * the negative prompts, rows labelled by branch), the VAE after them (decoding each image's latents; img2img also
 * encodes the input image first): their captures come with step 0, whatever steps are chosen.
 */
public final class GenerationFeatures {
    private final StableDiffusion sd;

    public GenerationFeatures(StableDiffusion sd) {
        this.sd = sd;
    }

    /**
     * Receives one point's capture (named {@link ModulePath#qualified()}) at a selected (1-based) step, or at step 0 for
     * a forward outside the sampling loop (text encoders, VAE); the value is valid only during the call.
     */
    @FunctionalInterface
    public interface Sink {
        void accept(Capture capture, int step);
    }

    /**
     * Runs the request; {@code steps} are 1-based step numbers ({@link dev.unetlens.hook.StepSelection}), empty for
     * all steps.
     */
    public GenerationResult run(GenerationRequest r, List<ModulePath> points, Set<Integer> steps, Sink sink, Progress progress) {
        try (ModelScope scope = ModelScope.open(ModelHooks.of(sd))) {
            scope.capture(points, Capture.Rows.ALL, c -> {
                int step = c.step() + 1;
                if (step == 0 || steps.isEmpty() || steps.contains(step)) {
                    sink.accept(c, step);
                }
            });
            return new Pipeline(sd).generate(r, new TorchGenerator(r.seed()), Pipeline.StepCallback.NONE, progress);
        }
    }

    /** The branches to keep: the conditional one unless asked otherwise. */
    public static Set<Branch> branches(String which) {
        return switch (which) {
            case "cond" -> Set.of(Branch.COND);
            case "uncond" -> Set.of(Branch.UNCOND);
            case "both" -> java.util.EnumSet.of(Branch.UNCOND, Branch.COND);
            default -> throw new dev.unetlens.UnetlensException("--cfg-branch must be cond, uncond or both, got '" + which + "'");
        };
    }
}
