package dev.unetlens.cli;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.hook.HookScope;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;
import dev.unetlens.model.HookTable;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.viz.FeatureFrame;
import dev.unetlens.viz.FeatureMap;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.attention.AttentionProbs;
import dev.unetlens.viz.attention.CrossAttentionGrid;
import dev.unetlens.viz.attention.DaamAccumulator;
import dev.unetlens.viz.attention.HeatMaps;
import dev.unetlens.viz.attention.Tokens;
import dev.unetlens.viz.attention.WordHeatMap;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.grid.AutoScope;
import dev.unetlens.viz.grid.FeatureGrid;
import dev.unetlens.viz.grid.GridOptions;
import dev.unetlens.viz.grid.Reduction;
import dev.unetlens.viz.grid.StepStrip;
import dev.unetlens.viz.grid.StripRow;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pictures drawn live from a generation: feature grids and a step strip of chosen modules, a cross-attention grid
 * (heads × tokens) of one module at the last step, and DAAM word heat maps over the image from every cross-attention
 * map of the run. Installs its hooks on a scope, keeps only what the pictures need, and writes them afterwards.
 */
final class RunPictures {
    /**
     * What to draw.
     *
     * @param features   modules whose maps get a grid at the last step and a strip over {@code steps}
     * @param steps      1-based steps for the strips
     * @param attention  the cross-attention module ({@code …attn2}) whose grid to draw, or null for none
     * @param words      words of the prompt to draw DAAM heat maps for (empty: none)
     */
    record Plan(List<String> features, Set<Integer> steps, String attention, List<String> words) {
    }

    private final StableDiffusion sd;
    private final GenerationRequest request;
    private final Plan plan;
    private final int totalSteps;
    private final Map<String, List<FeatureFrame>> frames = new LinkedHashMap<>();
    private final List<String> tokenLabels;
    private final DaamAccumulator daam;
    private AttentionProbs lastAttention;
    private MapLabel lastAttentionLabel;

    RunPictures(StableDiffusion sd, GenerationRequest request, int totalSteps, Plan plan) {
        this.sd = sd;
        this.request = request;
        this.plan = plan;
        this.totalSteps = totalSteps;
        this.tokenLabels = sd.prompts().tokens(request.prompts().getFirst()).tokenTexts();
        int f = sd.vae().downscale();
        this.daam = plan.words().isEmpty() ? null
                : new DaamAccumulator(request.height() / f, request.width() / f, Tokens.promptLength(tokenLabels));
    }

    /** Adds the hooks that collect what the pictures need. */
    void install(HookScope scope) {
        for (String point : plan.features()) {
            frames.put(point, new ArrayList<>());
            scope.add(point, HookScope.observe((v, ctx) -> {
                int step = ctx.step() + 1;
                if (!ctx.warmup() && (plan.steps().contains(step) || step == totalSteps)) {
                    int row = ctx.rowsOf(dev.unetlens.model.ForwardContext.Branch.COND)[0];
                    frames.get(point).add(new FeatureFrame(new MapLabel(point, step, ctx.timestep()), map(v, row)));
                }
            }));
        }
        int f = sd.vae().downscale();
        for (HookTable.PointInfo p : sd.unet().hooks().points()) {
            boolean cross = p.name().endsWith("attn2:probs");
            boolean grid = plan.attention() != null && p.name().equals(plan.attention() + ":probs");
            if (!cross || daam == null && !grid) {
                continue;
            }
            String module = p.name().substring(0, p.name().length() - ":probs".length());
            scope.add(p.name(), HookScope.observe((v, ctx) -> {
                if (ctx.warmup()) {
                    return;                                               // one map per step
                }
                long[] s = v.getShape().getShape();                       // [B, N, T, S]
                int[] hw = AttentionProbs.blockSize((int) s[2], request.height() / f, request.width() / f);
                AttentionProbs probs = new AttentionProbs(v.toFloatArray(), (int) s[0], (int) s[1], (int) s[2],
                        (int) s[3], hw[0], hw[1]);
                MapLabel label = new MapLabel(module, ctx.step() + 1, ctx.timestep());
                int row = ctx.rowsOf(dev.unetlens.model.ForwardContext.Branch.COND)[0];
                if (daam != null) {
                    daam.add(label, probs, row);
                }
                if (grid && ctx.step() + 1 == totalSteps) {
                    lastAttention = probs;
                    lastAttentionLabel = label;
                }
            }));
        }
    }

    private static FeatureMap map(NDArray v, int row) {
        long[] s = v.getShape().getShape();                                   // [B, C, H, W]
        float[] values = v.get(row + ":" + (row + 1)).toFloatArray();
        return new FeatureMap(values, (int) s[1], (int) s[2], (int) s[3]);
    }

    /** Writes the pictures into {@code pictures/} of the output directory. */
    void write(OutputDirectory out, GenerationResult result) {
        for (Map.Entry<String, List<FeatureFrame>> e : frames.entrySet()) {
            List<FeatureFrame> list = e.getValue();
            if (list.isEmpty()) {
                continue;
            }
            String stem = "pictures/" + e.getKey().replace(':', '-');
            FeatureFrame last = list.getLast();
            List<Picture> pages = FeatureGrid.render(last.map(), last.label(), GridOptions.defaults());
            for (int i = 0; i < pages.size(); i++) {
                pages.get(i).write(out, stem + "-grid-step-" + String.format("%03d", last.label().step())
                        + (pages.size() > 1 ? "-page-" + (i + 1) : "") + ".png");
            }
            List<FeatureFrame> strip = list.stream().filter(fr -> plan.steps().contains(fr.label().step())).toList();
            if (strip.size() > 1) {
                StepStrip.render(strip, List.of(new StripRow.Reduced(Reduction.L2), new StripRow.Channel(0)),
                        Colorizer.viridis(), AutoScope.SHARED).write(out, stem + "-steps.png");
            }
        }
        if (lastAttention != null) {
            List<Picture> pages = CrossAttentionGrid.render(lastAttention, lastAttentionLabel, tokenLabels,
                    CrossAttentionGrid.Options.defaults(lastAttention));
            for (int i = 0; i < pages.size(); i++) {
                pages.get(i).write(out, "pictures/" + lastAttentionLabel.module() + "-cross-attention-step-"
                        + String.format("%03d", lastAttentionLabel.step()) + (pages.size() > 1 ? "-page-" + (i + 1) : "") + ".png");
            }
        }
        if (daam != null) {
            HeatMaps maps = daam.compute(DaamAccumulator.Selection.daam(), Tokens.promptLength(tokenLabels), true);
            List<WordHeatMap.Word> words = new ArrayList<>();
            for (String w : plan.words()) {
                List<Integer> idx = Tokens.indicesOf(tokenLabels, sd.prompts().tokenizer().bpeTokens(w));
                if (!idx.isEmpty()) {
                    words.add(new WordHeatMap.Word(w, maps.word(idx)));
                }
            }
            if (!words.isEmpty()) {
                RgbImage image = result.images().getFirst();
                ObjectNode e = WordHeatMap.render(image, words, "DAAM word heat maps", WordHeatMap.sources(maps),
                        WordHeatMap.Options.defaults()).write(out, "pictures/word-heat-maps.png");
                e.put("prompt", request.prompts().getFirst());
            }
        }
    }
}
