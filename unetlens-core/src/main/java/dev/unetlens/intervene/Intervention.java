package dev.unetlens.intervene;

import dev.unetlens.UnetlensException;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.Component;
import dev.unetlens.hook.ModelHooks;
import dev.unetlens.hook.ModelScope;
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
    private final TextEdits textEdits;

    private Intervention(StableDiffusion sd, GenerationRequest request, LayerPrompts layers, Edits edits,
                         TextEdits textEdits) {
        this.sd = sd;
        this.request = request;
        this.layers = layers;
        this.edits = edits;
        this.textEdits = textEdits;
    }

    /**
     * Parses the request's layer prompts and resolves {@code edits} for {@code sd}; fails in one line (a caret for
     * layer prompts) on any mistake.
     */
    public static Intervention prepare(StableDiffusion sd, GenerationRequest request, List<Edit> edits) {
        return prepare(sd, request, edits, List.of());
    }

    /**
     * {@link #prepare(StableDiffusion, GenerationRequest, List)} with edits of the text encoders' input embeddings
     * ({@link TextEdit}), which apply to the prompts' encodings; they cannot be combined with layer prompts, whose
     * texts are encoded beforehand.
     */
    public static Intervention prepare(StableDiffusion sd, GenerationRequest request, List<Edit> edits,
                                       List<TextEdit> textEdits) {
        Edits resolved = Edits.resolve(sd, request, edits);
        boolean layered = LayerPrompts.uses(request);
        if (layered && !textEdits.isEmpty()) {
            throw new UnetlensException(textEdits.getFirst().describe() + ": text edits change the prompt's encoding;"
                    + " with layer prompts ((~: … :~)) each block reads its own, so use one or the other");
        }
        TextEdits text = textEdits.isEmpty() ? TextEdits.none()
                : TextEdits.resolve(sd.prompts(),
                        sd.prompts().textsRead(request.prompts(), request.prompts2()), textEdits);
        LayerPrompts layers = layered ? LayerPrompts.of(sd, request) : null;
        return new Intervention(sd, request, layers, resolved, text);
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

    public TextEdits textEdits() {
        return textEdits;
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
        return generate(source, extra, Pipeline.StepCallback.NONE, progress);
    }

    /** {@link #generate(Recording, Consumer, Progress)}, {@code callback} called after every step. */
    public GenerationResult generate(Recording source, Consumer<HookScope> extra, Pipeline.StepCallback callback,
                                     Progress progress) {
        GenerationRequest run = runRequest();
        GenerationResult result;
        try (ModelScope model = ModelScope.open(ModelHooks.of(sd))) {
            HookScope scope = model.scope(Component.UNET);
            if (layers != null) {
                layers.install(scope);
            }
            textEdits.install(model);
            edits.install(model, source);
            if (extra != null) {
                extra.accept(scope);
            }
            result = new Pipeline(sd).generate(run, new TorchGenerator(run.seed()), callback, progress);
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
