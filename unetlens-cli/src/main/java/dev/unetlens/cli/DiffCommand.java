package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.hook.BlockNames;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.Selector;
import dev.unetlens.intervene.Differences;
import dev.unetlens.intervene.Edit;
import dev.unetlens.intervene.Intervention;
import dev.unetlens.intervene.LayerPrompts;
import dev.unetlens.intervene.Recording;
import dev.unetlens.intervene.TextEdit;
import dev.unetlens.io.CacheDir;
import dev.unetlens.io.FileHashes;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.RunRecords;
import dev.unetlens.pipeline.StableDiffusion;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code unetlens diff}: the same seed with and without a change (a layer prompt and/or edits); writes both images,
 * the per-module per-step difference tensors with their pictures, the difference of the final images, and a manifest.
 */
@Command(name = "diff", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Run one seed without and with a change; write the differences.",
        description = {"Run one seed twice, without and with a change (a layer prompt (~: … :~)",
            "and/or --edit), and write both images, with − without for chosen modules",
            "and steps (.npy float32, signed Red/Blue and norm pictures), the image and",
            "latent differences, differences.csv and manifest.json."})
public final class DiffCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    AttentionOption attention;

    @Mixin
    PromptOption prompt;

    @ArgGroup(validate = false, heading = "%nGeneration%n", exclusive = false)
    GenerationOptions generation = new GenerationOptions();

    @ArgGroup(validate = false, heading = "%nInterventions%n", exclusive = false)
    InterventionOptions interventions = new InterventionOptions();

    @ArgGroup(validate = false, heading = "%nText edits%n", exclusive = false)
    TextEditOptions textEdits = new TextEditOptions();

    @ArgGroup(validate = false, heading = "%nDifferences%n", exclusive = false)
    DiffOptions diff = new DiffOptions();

    @ArgGroup(validate = false, heading = "%nOutput%n", exclusive = false)
    OutputOptions output = new OutputOptions();

    @Override
    public Integer call() {
        List<Edit> edits = interventions.parse();
        interventions.checkSource(edits);
        List<TextEdit> text = textEdits.parse();
        Capture.Rows rows = diff.rows();
        OutputDirectory out = output.open("diff");
        long t0 = System.nanoTime();
        attention.apply();
        try (StableDiffusion sd = model.load()) {
            double load = (System.nanoTime() - t0) / 1e9;
            GenerationRequest changedRequest = generation.request(sd, prompt.prompts());
            if (!LayerPrompts.uses(changedRequest) && edits.isEmpty() && text.isEmpty()) {
                throw new UnetlensException("nothing to compare: give a prompt with a layer group (~: BLOCKS: TEXT :~),"
                        + " an --edit or a text edit (--token-swap, --token-mix, --position-scale)");
            }
            try (Intervention changed = Intervention.prepare(sd, changedRequest, edits, text);
                 Intervention baseline = Intervention.prepare(sd, baselineRequest(changed), List.of())) {
                BlockNames blocks = BlockNames.of(sd.unet().config());
                List<String> points = Selector.resolve(diff.at != null ? diff.at
                        : blocks.names().getFirst() + "-" + blocks.names().getLast(), sd.unet().hooks(), blocks);
                int stepCount = new Pipeline(sd).plan(changedRequest).steps();
                Set<Integer> steps = diff.steps(stepCount, DiffOptions.firstMiddleLast(stepCount));
                InterventionRecords.warn(changed, System.err);
                ConsoleProgress progress = ConsoleProgress.forStderr();
                int f = sd.vae().downscale();
                DifferenceWriter writer = new DifferenceWriter(out, "", blocks, changedRequest.height() / f,
                        changedRequest.width() / f);
                try (BlockProgress watch = BlockProgress.watch(sd, progress);
                     Recording source = interventions.recordSource(changed, progress);
                     Recording base = new Recording(sd.manager())) {
                    GenerationResult b = baseline.generate(null, s -> base.record(s, points, steps::contains, rows), progress);
                    GenerationResult c = changed.generate(source, s -> Differences.observe(s, base, points, steps::contains,
                            rows, writer::accept), progress);
                    images(out, "baseline", b, "the run without the change");
                    images(out, "changed", c, "the run with the change");
                    double[] mae = writer.results(b, c);
                    writer.writeTable();
                    manifest(out, sd, changed, baseline, source == null ? null : interventions.sourceRequest(changedRequest),
                            points, steps, rows, mae, load, b, c);
                }
            }
            out.finish();
            System.out.println("wrote " + out.dir());
        }
        return 0;
    }

    /** The request without the change: {@code --baseline-prompt}, or the prompts with their layer groups removed. */
    private GenerationRequest baselineRequest(Intervention changed) {
        GenerationRequest plain = changed.runRequest();
        return diff.baselinePrompt == null ? plain
                : plain.toBuilder().prompts(java.util.Collections.nCopies(plain.prompts().size(), diff.baselinePrompt)).build();
    }

    static void images(OutputDirectory out, String stem, GenerationResult r, String what) {
        int n = r.images().size();
        for (int i = 0; i < n; i++) {
            RgbImage img = r.images().get(i);
            String name = n == 1 ? stem + ".png" : String.format(Locale.ROOT, "%s-%03d.png", stem, i);
            out.write(name, o -> img.writePng(o, Map.of()), what + (n == 1 ? "" : ", image " + (i + 1) + " of " + n));
        }
    }

    private static void manifest(OutputDirectory out, StableDiffusion sd, Intervention changed, Intervention baseline,
                                 GenerationRequest source, List<String> points, Set<Integer> steps, Capture.Rows rows,
                                 double[] mae, double load, GenerationResult b, GenerationResult c) {
        ObjectNode m = out.manifest();
        m.set("model", RunRecords.model(sd, new FileHashes(CacheDir.root())));
        m.set("request", RunRecords.request(changed.request()));
        m.set("baseline_request", RunRecords.request(baseline.request()));
        InterventionRecords.describe(m, changed, source);
        ObjectNode at = m.putObject("captured");
        ArrayNode p = at.putArray("points");
        points.forEach(p::add);
        ArrayNode s = at.putArray("steps");
        steps.forEach(k -> s.add(k + 1));
        at.put("rows", rows.name().toLowerCase(Locale.ROOT));
        ObjectNode res = m.putObject("results");
        res.put("latent_l2", dev.unetlens.intervene.Patching.latentDistance(b, c));
        ArrayNode ma = res.putArray("image_mean_abs_diff");
        for (double v : mae) {
            ma.add(v);
        }
        m.set("versions", RunRecords.versions());
        ObjectNode secs = m.putObject("seconds");
        secs.put("load", load);
        secs.put("baseline_denoise", b.seconds().denoise());
        secs.put("changed_denoise", c.seconds().denoise());
        out.saveManifest();
    }
}
