package dev.unetlens.intervene;

import dev.unetlens.hook.Capture;
import dev.unetlens.hook.HookScope;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.rng.TorchGenerator;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One generation with per-block prompts and edits, prepared (parsed, resolved, checked, layer prompts encoded)
 * before anything runs, then run with its hooks in one scope — to which a caller may add captures, so a run can
 * edit some modules and capture others:
 *
 * <pre>{@code
 * try (Intervention iv = Intervention.prepare(sd, request, List.of(Edit.parse("mid_block:zero@steps=1-5")));
 *      Recording rec = new Recording(sd.manager())) {
 *     GenerationResult r = iv.generate(null, scope -> rec.record(scope, List.of("up_blocks.1"), s -> true,
 *             Capture.Rows.COND), Progress.NONE);
 * }
 * }</pre>
 * Hooks added by {@code extra} run after the edits at the same point, so they see the edited tensor.
 */
public final class Intervention implements AutoCloseable {
    private final StableDiffusion sd;
    private final GenerationRequest request;
    private final LayerPrompts layers;       // null when no prompt uses the syntax
    private final Edits edits;

    private Intervention(StableDiffusion sd, GenerationRequest request, LayerPrompts layers, Edits edits) {
        this.sd = sd;
        this.request = request;
        this.layers = layers;
        this.edits = edits;
    }

    /**
     * Parses the request's layer prompts and resolves {@code edits} for {@code sd}; fails in one line (a caret for
     * layer prompts) on any mistake.
     */
    public static Intervention prepare(StableDiffusion sd, GenerationRequest request, List<Edit> edits) {
        Edits resolved = Edits.resolve(sd, request, edits);
        LayerPrompts layers = LayerPrompts.uses(request) ? LayerPrompts.of(sd, request) : null;
        return new Intervention(sd, request, layers, resolved);
    }

    /** The request as given (layer syntax included). */
    public GenerationRequest request() {
        return request;
    }

    /** The request the pipeline runs: layer groups removed. */
    public GenerationRequest runRequest() {
        return layers == null ? request : layers.plainRequest();
    }

    /** The per-block prompts, or null when no prompt uses the syntax. */
    public LayerPrompts layerPrompts() {
        return layers;
    }

    public Edits edits() {
        return edits;
    }

    /** The points and 0-based steps (null: all) a source run must record for this run's patch edits. */
    public Map<String, Set<Integer>> patchPoints() {
        return edits.patchPoints();
    }

    /**
     * Runs the generation with the layer prompts and edits, and whatever {@code extra} adds to the same scope.
     * The result carries the request as given.
     *
     * @param source the source run's recording for patch edits (all rows), or null
     * @param extra  adds more hooks (captures), or null
     */
    public GenerationResult generate(Recording source, Consumer<HookScope> extra, Progress progress) {
        GenerationRequest run = runRequest();
        GenerationResult result;
        try (HookScope scope = HookScope.open(sd.unet().hooks())) {
            if (layers != null) {
                layers.install(scope);
            }
            edits.install(scope, source);
            if (extra != null) {
                extra.accept(scope);
            }
            result = new Pipeline(sd).generate(run, new TorchGenerator(run.seed()), Pipeline.StepCallback.NONE, progress);
        }
        return new GenerationResult(request, result.images(), result.finalLatents(), result.decoded(), result.steps(),
                result.schedulerConfig(), result.truncated(), result.seconds());
    }

    /**
     * Runs {@code source} (which may use layer prompts) and records, on every row, what this run's patch edits copy.
     * The caller closes the recording.
     */
    public Recording recordSource(GenerationRequest source, Progress progress) {
        Patching.checkCompatible(request, source);
        Recording rec = new Recording(sd.manager());
        try (Intervention src = prepare(sd, source, List.of())) {
            src.generate(null, scope -> rec.record(scope, patchPoints(), Capture.Rows.ALL), progress);
            return rec;
        } catch (RuntimeException e) {
            rec.close();
            throw e;
        }
    }

    @Override
    public void close() {
        if (layers != null) {
            layers.close();
        }
    }
}
