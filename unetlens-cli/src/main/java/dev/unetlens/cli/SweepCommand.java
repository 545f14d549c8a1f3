package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.hook.BlockNames;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.Selector;
import dev.unetlens.hook.StepSelection;
import dev.unetlens.intervene.CrossAttentionBlocks;
import dev.unetlens.intervene.Differences;
import dev.unetlens.intervene.Edit;
import dev.unetlens.intervene.Edits;
import dev.unetlens.intervene.Intervention;
import dev.unetlens.intervene.LayerPrompt;
import dev.unetlens.intervene.Patching;
import dev.unetlens.intervene.Recording;
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
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * {@code unetlens sweep}: one change applied to one block at a time — a layer text (Dump U-Net users do this with a
 * Dynamic Prompts template) or an {@code --edit} — each run against the same baseline and seed: one image and
 * difference set per block, a contact sheet of all, metrics and a manifest.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Apply one change to one block at a time; contact sheets of the results.",
        description = {"Apply one change to one block at a time over --blocks, with one seed:",
            "a layer text (--layer-text, or a prompt with {block} in a layer group) or",
            "an --edit whose target is {block} (or left out). Writes the baseline and",
            "each block's image, image and module differences, contact_sheet.png,",
            "contact_sheet_diff.png, metrics.csv and manifest.json. Blocks without",
            "cross-attention (IN00, downsamplers, resnet-only levels) read no text:",
            "a layer text there changes nothing."})
public final class SweepCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    AttentionOption attention;

    @Mixin
    PromptOption prompt;

    @ArgGroup(validate = false, heading = "%nGeneration%n", exclusive = false)
    GenerationOptions generation = new GenerationOptions();

    @ArgGroup(validate = false, heading = "%nSweep%n", exclusive = false)
    SweepOptions sweep = new SweepOptions();

    @ArgGroup(validate = false, heading = "%nInterventions (templates: {block} is each block)%n", exclusive = false)
    InterventionOptions interventions = new InterventionOptions();

    @ArgGroup(validate = false, heading = "%nDifferences%n", exclusive = false)
    DiffOptions diff = new DiffOptions();

    @ArgGroup(validate = false, heading = "%nOutput%n", exclusive = false)
    OutputOptions output = new OutputOptions();

    /** The sweep's own options. */
    public static final class SweepOptions {
        @Option(names = "--blocks", paramLabel = "BLOCKS",
                description = "WebUI blocks to sweep: IN00-OUT11, IN04,IN05,M00, IN00-OUT11(+2) (default: all).")
        String blocks;

        @Option(names = "--layer-text", paramLabel = "TEXT",
                description = "Give each block this text: the prompt becomes PROMPT, (~:{block}:TEXT:~).")
        String layerText;

        @Option(names = "--sweep-steps", paramLabel = "STEPS",
                description = "With --edit: also sweep these steps (from 1), one at a time: blocks × steps.")
        String sweepSteps;

        @Option(names = "--columns", paramLabel = "N", description = "Contact sheet columns (default: about square).")
        Integer columns;
    }

    /** One run of the sweep: a block (and step), its request and edits. */
    private record Cell(String block, Integer step, GenerationRequest request, List<Edit> edits, String dir, String label) {
    }

    private static final String BLOCK = "{block}";
    /** What the values of contact_sheet_diff.png are. */
    private static final String SHEET_UNIT = "Δ of the 8-bit images (0–255), mean of R, G, B";

    /** The source run of patch edits, once run. */
    private GenerationResult sourceResult;

    @Override
    public Integer call() {
        boolean template = prompt.prompts().stream().anyMatch(p -> p.contains(BLOCK));
        int kinds = (sweep.layerText != null ? 1 : 0) + (template ? 1 : 0) + (interventions.edits.isEmpty() ? 0 : 1);
        if (kinds != 1) {
            throw new UnetlensException(kinds == 0
                    ? "sweep needs a change to apply per block: --layer-text TEXT, a prompt with {block} in a layer group,"
                    + " or --edit (with {block} as its target, or none)"
                    : "sweep applies one kind of change: give only one of --layer-text, a {block} prompt, --edit");
        }
        if (sweep.sweepSteps != null && interventions.edits.isEmpty()) {
            throw new UnetlensException("--sweep-steps sweeps the steps of an --edit; layer prompts apply at every step");
        }
        List<String> editTemplates = new ArrayList<>();
        for (String e : interventions.edits) {
            String t = Edit.lacksTarget(e) ? BLOCK + ":" + e.strip() : e;
            if (!t.contains(BLOCK)) {
                throw new UnetlensException("--edit '" + e + "' in a sweep must target {block} (or name no target)");
            }
            Edit.parse(t.replace(BLOCK, "IN00"));                     // the grammar, before any work
            editTemplates.add(t);
        }
        interventions.checkSource(editTemplates.stream().map(t -> Edit.parse(t.replace(BLOCK, "IN00"))).toList());
        Capture.Rows rows = diff.rows();
        OutputDirectory out = output.open("sweep");
        long t0 = System.nanoTime();
        attention.apply();
        try (StableDiffusion sd = model.load()) {
            double load = (System.nanoTime() - t0) / 1e9;
            BlockNames names = BlockNames.of(sd.unet().config());
            List<String> blocks = Selector.blocks(sweep.blocks != null ? sweep.blocks
                    : names.names().getFirst() + "-" + names.names().getLast(), names);
            GenerationRequest request = generation.request(sd, prompt.prompts());
            int stepCount = new Pipeline(sd).plan(request).steps();
            List<Integer> sweepSteps = sweep.sweepSteps == null ? null : StepSelection.parse(sweep.sweepSteps, stepCount);
            List<Cell> cells = cells(request, blocks, sweepSteps, editTemplates, template);
            GenerationRequest baselineRequest = baseline(request, editTemplates.isEmpty() ? cells.getFirst() : null, names);
            // check every cell (layer syntax, edit targets and shapes) before any run
            for (Cell c : cells) {
                for (String p : c.request().prompts()) {
                    LayerPrompt.parse(p, names);
                }
                Edits.resolve(sd, c.request(), c.edits());
            }
            Set<Integer> steps = diff.steps(stepCount, Integer.toString(stepCount));
            Map<String, List<String>> pointsByBlock = new LinkedHashMap<>();
            Set<String> union = new LinkedHashSet<>();
            for (String b : blocks) {
                List<String> pts = diff.at != null ? Selector.resolve(diff.at, sd.unet().hooks(), names)
                        : List.of(names.module(b).orElseThrow());
                pointsByBlock.put(b, pts);
                union.addAll(pts);
            }
            ConsoleProgress progress = ConsoleProgress.forStderr();
            int f = sd.vae().downscale();
            try (BlockProgress watch = BlockProgress.watch(sd, progress)) {
                run(out, sd, names, request, baselineRequest, cells, pointsByBlock, union, steps, rows, progress,
                        request.height() / f, request.width() / f, load);
            }
            out.finish();
            System.out.println("wrote " + out.dir());
        }
        return 0;
    }

    /**
     * The run every cell is compared with: --baseline-prompt; for layer texts, a cell's prompts with their groups
     * removed (the same for every cell: "PROMPT, " for --layer-text); for edits, the request itself.
     */
    private GenerationRequest baseline(GenerationRequest r, Cell layerCell, BlockNames names) {
        if (diff.baselinePrompt != null) {
            return r.toBuilder().prompts(Collections.nCopies(r.prompts().size(), diff.baselinePrompt)).build();
        }
        if (layerCell != null) {
            return r.toBuilder().prompts(layerCell.request().prompts().stream()
                    .map(p -> LayerPrompt.parse(p, names).plain()).toList()).build();
        }
        return r;
    }

    private List<Cell> cells(GenerationRequest r, List<String> blocks, List<Integer> sweepSteps, List<String> editTemplates,
                             boolean template) {
        List<Cell> out = new ArrayList<>();
        for (String b : blocks) {
            if (!editTemplates.isEmpty()) {
                for (Integer s : sweepSteps == null ? Collections.<Integer>singletonList(null) : sweepSteps) {
                    List<Edit> edits = new ArrayList<>();
                    for (String t : editTemplates) {
                        Edit e = Edit.parse(t.replace(BLOCK, b));
                        if (s != null) {
                            if (e.steps() != null) {
                                throw new UnetlensException("--edit '" + t + "' has steps=; --sweep-steps sets each cell's step");
                            }
                            e = e.atSteps(Integer.toString(s));
                        }
                        edits.add(e);
                    }
                    String dir = "blocks/" + b + (s == null ? "" : String.format(Locale.ROOT, "/step-%03d", s)) + "/";
                    out.add(new Cell(b, s, r, edits, dir, s == null ? b : b + " S" + s));
                }
            } else {
                List<String> prompts = r.prompts().stream().map(p -> template ? p.replace(BLOCK, b)
                        : p + separator(p) + LayerPrompt.OPEN + b + ":" + sweep.layerText + LayerPrompt.CLOSE).toList();
                out.add(new Cell(b, null, r.toBuilder().prompts(prompts).build(), List.of(), "blocks/" + b + "/", b));
            }
        }
        return out;
    }

    /** ", " between a prompt and an appended layer group, unless the prompt is empty or ends with a separator. */
    private static String separator(String p) {
        return p.isEmpty() || p.endsWith(",") || p.endsWith(" ") ? "" : ", ";
    }

    private void run(OutputDirectory out, StableDiffusion sd, BlockNames names, GenerationRequest request,
                     GenerationRequest baselineRequest, List<Cell> cells, Map<String, List<String>> pointsByBlock,
                     Set<String> union, Set<Integer> steps, Capture.Rows rows, ConsoleProgress progress,
                     int latentH, int latentW, double load) {
        long started = System.nanoTime();
        ObjectNode m = out.manifest();
        m.set("model", RunRecords.model(sd, new FileHashes(CacheDir.root())));
        m.set("request", RunRecords.request(request));
        m.set("baseline_request", RunRecords.request(baselineRequest));
        Map<String, List<String>> attention = CrossAttentionBlocks.of(sd.unet());
        List<Pictures.Cell> sheet = new ArrayList<>();
        List<String> diffLabels = new ArrayList<>();
        List<float[]> diffs = new ArrayList<>();
        List<String> metrics = new ArrayList<>();
        try (Intervention base = Intervention.prepare(sd, baselineRequest, List.of());
             Recording baseRec = new Recording(sd.manager());
             Recording source = recordSource(sd, request, cells, progress)) {
            System.err.println("sweep: baseline");
            GenerationResult b = base.generate(null, s -> baseRec.record(s, union, steps::contains, rows), progress);
            DiffCommand.images(out, "baseline", b, "the baseline run (no change)");
            sheet.add(new Pictures.Cell("baseline", b.images().getFirst()));
            ArrayNode cellsNode = m.putArray("cells");
            for (int i = 0; i < cells.size(); i++) {
                Cell c = cells.get(i);
                System.err.printf(Locale.ROOT, "sweep: %s (%d/%d)%n", c.label(), i + 1, cells.size());
                long c0 = System.nanoTime();
                DifferenceWriter writer = new DifferenceWriter(out, c.dir(), names, latentH, latentW);
                List<String> pts = pointsByBlock.get(c.block());
                try (Intervention iv = Intervention.prepare(sd, c.request(), c.edits())) {
                    GenerationResult r = iv.generate(source, s -> Differences.observe(s, baseRec, pts, steps::contains, rows,
                            writer::accept), progress);
                    RgbImage img = r.images().getFirst();
                    out.write(c.dir() + "image.png", o -> img.writePng(o, Map.of()), "the run with the change at " + c.label());
                    double[] mae = writer.results(b, r);
                    writer.writeTable();
                    double l2 = Patching.latentDistance(r, b);
                    double l2Source = this.sourceResult == null ? Double.NaN : Patching.latentDistance(r, this.sourceResult);
                    sheet.add(new Pictures.Cell(c.label(), img));
                    diffLabels.add(c.label());
                    diffs.add(imageDiff(b.images().getFirst(), img));
                    ObjectNode cn = cellsNode.addObject();
                    cn.put("block", c.block());
                    cn.put("module", names.module(c.block()).orElseThrow());
                    if (c.step() != null) {
                        cn.put("step", c.step());
                    }
                    cn.put("dir", c.dir());
                    if (c.edits().isEmpty()) {
                        ArrayNode p = cn.putArray("prompts");
                        c.request().prompts().forEach(p::add);
                        cn.put("reads_text", !attention.get(c.block()).isEmpty());
                    } else {
                        cn.set("edits", InterventionRecords.edits(iv.edits()));
                    }
                    cn.put("latent_l2_to_baseline", l2);
                    cn.put("image_mean_abs_diff", mae[0]);
                    if (!Double.isNaN(l2Source)) {
                        cn.put("latent_l2_to_source", l2Source);
                    }
                    cn.put("seconds", (System.nanoTime() - c0) / 1e9);
                    metrics.add(String.join(",", c.block(), c.step() == null ? "" : c.step().toString(),
                            Boolean.toString(c.edits().isEmpty() ? !attention.get(c.block()).isEmpty() : true),
                            Double.toString(l2), Double.toString(mae[0]), Double.isNaN(l2Source) ? "" : Double.toString(l2Source)));
                    out.saveManifest();
                }
            }
            int cols = sweep.columns != null ? sweep.columns : 0;
            RgbImage contact = Pictures.contactSheet("Sweep: " + request.prompts().getFirst(),
                    "the baseline, then the run with the change at each block", sheet, cols);
            out.write("contact_sheet.png", o -> contact.writePng(o, Map.of()),
                    "every run's image labelled with its block, the baseline first");
            double max = diffs.stream().mapToDouble(d -> maxAbs(d)).max().orElse(0);
            List<Pictures.Cell> diffSheet = new ArrayList<>(List.of(new Pictures.Cell("baseline", b.images().getFirst())));
            RgbImage first = b.images().getFirst();
            for (int k = 0; k < diffs.size(); k++) {
                diffSheet.add(new Pictures.Cell(diffLabels.get(k), Pictures.signed(diffs.get(k), 0, first.height(), first.width(), max)));
            }
            RgbImage contactDiff = Pictures.contactSheet("Sweep differences: " + request.prompts().getFirst(),
                    String.format(Locale.ROOT, "image with − without, mean over RGB; Red/Blue over ±%.3g (one scale)", max),
                    diffSheet, cols, Pictures.signedBar(max, SHEET_UNIT));
            ObjectNode sheetEntry = out.write("contact_sheet_diff.png", o -> contactDiff.writePng(o, Map.of()),
                    "the baseline, then each run's image difference (mean over RGB; red brighter, blue darker; one scale"
                    + " for all cells: the largest |Δ|)");
            sheetEntry.put("max_abs", max);
            sheetEntry.put("unit", SHEET_UNIT);
            String csv = "block,step,reads_change,latent_l2_to_baseline,image_mean_abs_diff,latent_l2_to_source\n"
                    + String.join("\n", metrics) + "\n";
            out.write("metrics.csv", o -> o.write(csv.getBytes(StandardCharsets.UTF_8)),
                    "per cell: L2 distance of the final latents to the baseline's, mean |Δ| of the images in [0, 1]"
                    + (this.sourceResult == null ? "" : ", L2 distance to the source run's latents"));
        }
        ObjectNode at = m.putObject("captured");
        ArrayNode s = at.putArray("steps");
        new TreeSet<>(steps).forEach(k -> s.add(k + 1));
        at.put("rows", rows.name().toLowerCase(Locale.ROOT));
        at.put("points", diff.at != null ? diff.at : "each swept block's own output");
        m.set("versions", RunRecords.versions());
        ObjectNode secs = m.putObject("seconds");
        secs.put("load", load);
        secs.put("sweep", (System.nanoTime() - started) / 1e9);
        out.saveManifest();
    }

    /** Runs the source request once for every cell's patch edits; null without any. */
    private Recording recordSource(StableDiffusion sd, GenerationRequest request, List<Cell> cells, ConsoleProgress progress) {
        Map<String, Set<Integer>> needs = new LinkedHashMap<>();
        for (Cell c : cells) {
            Edits e = Edits.resolve(sd, c.request(), c.edits());
            e.patchPoints().forEach((p, st) -> {
                if (needs.containsKey(p) && needs.get(p) == null || st == null) {
                    needs.put(p, null);
                } else {
                    needs.computeIfAbsent(p, k -> new TreeSet<>()).addAll(st);
                }
            });
        }
        if (needs.isEmpty()) {
            return null;
        }
        GenerationRequest src = interventions.sourceRequest(request);
        Patching.checkCompatible(request, src);
        Recording rec = new Recording(sd.manager());
        try (Intervention iv = Intervention.prepare(sd, src, List.of())) {
            System.err.println("sweep: source run");
            sourceResult = iv.generate(null, s -> rec.record(s, needs, Capture.Rows.ALL), progress);
            return rec;
        } catch (RuntimeException e) {
            rec.close();
            throw e;
        }
    }

    /** b − a of two 8-bit images, mean over RGB, per pixel. */
    private static float[] imageDiff(RgbImage a, RgbImage b) {
        int n = a.width() * a.height();
        float[] d = new float[n];
        for (int k = 0; k < n; k++) {
            int s = 0;
            for (int ch = 0; ch < 3; ch++) {
                s += (b.rgb()[k * 3 + ch] & 0xff) - (a.rgb()[k * 3 + ch] & 0xff);
            }
            d[k] = s / 3f;
        }
        return d;
    }

    private static double maxAbs(float[] d) {
        double m = 0;
        for (float v : d) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
