package dev.unetlens.viz;

import dev.unetlens.io.OutputDirectory;
import dev.unetlens.viz.attention.AttentionProbs;
import dev.unetlens.viz.attention.CrossAttentionGrid;
import dev.unetlens.viz.attention.DaamAccumulator;
import dev.unetlens.viz.attention.HeatMaps;
import dev.unetlens.viz.attention.SelfAttentionMap;
import dev.unetlens.viz.attention.TokenMassChart;
import dev.unetlens.viz.attention.Tokens;
import dev.unetlens.viz.attention.WordHeatMap;
import dev.unetlens.viz.colorize.ColorMethod;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.colorize.Colormap;
import dev.unetlens.viz.colorize.ValueTransform;
import dev.unetlens.viz.grid.AutoScope;
import dev.unetlens.viz.grid.FeatureGrid;
import dev.unetlens.viz.grid.GridOptions;
import dev.unetlens.viz.grid.ReducedMap;
import dev.unetlens.viz.grid.Reduction;
import dev.unetlens.viz.grid.StepStrip;
import dev.unetlens.viz.grid.StripRow;
import dev.unetlens.viz.grid.UNetOverview;
import dev.unetlens.viz.repr.CosineSimilarity;
import dev.unetlens.viz.repr.PcaRgb;
import dev.unetlens.viz.repr.TokenNorms;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders one of every kind of picture from {@link SyntheticScene} into an output directory: the set a person
 * looks at to judge the pictures ({@code main DIR}), and that {@link PicturesTest} checks the manifest of.
 */
final class Samples {
    static final String ATTN2 = "up_blocks.1.attentions.0.transformer_blocks.0.attn2:probs";
    static final String ATTN1 = "down_blocks.1.attentions.0.transformer_blocks.0.attn1:probs";

    private Samples() {
    }

    /** Everything, at sizes a real SD 1.5 run has (64×64 latent, 320…1280 channels). */
    static void renderAll(OutputDirectory out, SyntheticScene scene, boolean large) {
        int c0 = large ? 320 : 48;
        int c2 = large ? 1280 : 40;
        FeatureMap f64 = scene.features(c0, 64, 64, 1, false);
        FeatureMap f8 = scene.features(c2, 8, 8, 2, true);
        write(out, "grid-down0", FeatureGrid.render(f64, new MapLabel("down_blocks.0.attentions.0", 5, 751),
                GridOptions.defaults()));
        write(out, "grid-mid", FeatureGrid.render(f8, new MapLabel("mid_block", 5, 751), GridOptions.defaults()));
        write(out, "grid-dumpunet-hsl", FeatureGrid.render(f64, new MapLabel("down_blocks.0.attentions.0", 5, 751),
                GridOptions.defaults().withColorizer(Colorizer.dumpUnetFeatures()).withChannels(range(0, Math.min(48, c0)))));
        write(out, "grid-whiteblack-subset", FeatureGrid.render(f64,
                new MapLabel("down_blocks.0.attentions.0", 5, 751), GridOptions.defaults()
                        .withColorizer(new Colorizer(new ValueTransform.Sigmoid(1, 0), new ColorMethod.WhiteBlack()))
                        .withChannels(List.of(3, 17, 42, 7, 11, 19, 2, 23))));
        write(out, "grid-redblue-tile", FeatureGrid.render(f64, new MapLabel("down_blocks.0.attentions.0", 5, 751),
                GridOptions.defaults().withColorizer(new Colorizer(new ValueTransform.AutoSigned(),
                        new ColorMethod.RedBlue())).withScope(AutoScope.TILE).withChannels(range(0, Math.min(24, c0)))));
        ReducedMap.render(f64, new MapLabel("down_blocks.0.attentions.0", 5, 751), Reduction.L2,
                Colorizer.viridis()).write(out, "reduced-l2");

        List<FeatureFrame> steps = new ArrayList<>();
        for (int s : new int[] {0, 5, 10, 15, 19}) {
            steps.add(new FeatureFrame(new MapLabel("up_blocks.2.attentions.1", s, 999 - 50 * s),
                    scene.featuresAtStep(large ? 640 : 32, 32, 32, 3, s, 20)));
        }
        StepStrip.render(steps, List.of(new StripRow.Reduced(Reduction.MEAN)), Colorizer.viridis(), AutoScope.SHARED)
                .write(out, "strip-sum");
        StepStrip.render(steps, List.of(new StripRow.Reduced(Reduction.L2), new StripRow.Channel(4),
                new StripRow.Channel(9)), Colorizer.dumpUnetFeatures(), AutoScope.SHARED).write(out, "strip-rows");

        List<FeatureFrame> blocks = new ArrayList<>();
        String[] names = {"conv_in", "down_blocks.0", "down_blocks.1", "down_blocks.2", "down_blocks.3",
                "mid_block", "up_blocks.0", "up_blocks.1", "up_blocks.2", "up_blocks.3", "conv_out"};
        int[] sizes = {64, 32, 16, 8, 8, 8, 16, 32, 64, 64, 64};
        int[] channels = {320, 320, 640, 1280, 1280, 1280, 1280, 1280, 640, 320, 4};
        for (int i = 0; i < names.length; i++) {
            int c = large ? channels[i] : Math.min(channels[i], 16);
            blocks.add(new FeatureFrame(new MapLabel(names[i], 10, 499),
                    scene.features(c, sizes[i], sizes[i], 10 + i, i == 5)));
        }
        UNetOverview.render(blocks, Reduction.L2, Colorizer.viridis()).write(out, "overview");

        List<String> labels = SyntheticScene.tokenLabels();
        AttentionProbs cross16 = new AttentionProbs(scene.crossAttention(8, 16, 16, 77, 5), 2, 8, 256, 77, 16, 16);
        write(out, "attention-grid", CrossAttentionGrid.render(cross16, new MapLabel(ATTN2, 10, 499), labels,
                CrossAttentionGrid.Options.defaults(cross16)));
        write(out, "attention-grid-dumpunet", CrossAttentionGrid.render(cross16, new MapLabel(ATTN2, 10, 499),
                labels, CrossAttentionGrid.Options.defaults(cross16).withColorizer(Colorizer.dumpUnetAttention())
                        .withScope(AutoScope.TILE).withTokens(range(0, 12))));
        TokenMassChart.render(cross16, new MapLabel(ATTN2, 10, 499), labels, 1, List.of()).write(out, "token-mass");

        int promptLength = Tokens.promptLength(labels);
        DaamAccumulator daam = new DaamAccumulator(64, 64, promptLength);
        String[] modules = {"down_blocks.1.attentions.0.transformer_blocks.0.attn2",
                "down_blocks.2.attentions.0.transformer_blocks.0.attn2",
                "mid_block.attentions.0.transformer_blocks.0.attn2",
                "up_blocks.1.attentions.0.transformer_blocks.0.attn2",
                "up_blocks.2.attentions.0.transformer_blocks.0.attn2"};
        int[] hw = {32, 16, 8, 16, 32};
        for (int step = 0; step < (large ? 4 : 2); step++) {
            for (int m = 0; m < modules.length; m++) {
                int n = hw[m];
                daam.add(new MapLabel(modules[m], step, 999 - 50 * step),
                        new AttentionProbs(scene.crossAttention(8, n, n, 77, 100 * step + m), 2, 8, n * n, 77, n, n),
                        1);
            }
        }
        HeatMaps maps = daam.compute(DaamAccumulator.Selection.daam(), promptLength, true);
        List<WordHeatMap.Word> words = new ArrayList<>();
        for (String w : new String[] {"red", "sun", "mountains"}) {
            words.add(new WordHeatMap.Word(w, maps.word(Tokens.indicesOf(labels, List.of(w)))));
        }
        words.add(new WordHeatMap.Word("red sun", maps.word(Tokens.indicesOf(labels, List.of("red", "sun")))));
        WordHeatMap.render(scene.image, words, "DAAM heat maps", WordHeatMap.sources(maps),
                WordHeatMap.Options.defaults()).write(out, "daam-words");
        WordHeatMap.render(scene.image, words.subList(1, 2), "DAAM heat map", WordHeatMap.sources(maps),
                WordHeatMap.Options.defaults().withAbsolute(true)).write(out, "daam-sun-absolute");

        int sa = large ? 32 : 16;   // the block side; queries below are on the sun and on a mountain
        AttentionProbs self = new AttentionProbs(scene.selfAttention(large ? 8 : 2, sa, sa), 1, large ? 8 : 2,
                sa * sa, sa * sa, sa, sa);
        SelfAttentionMap.render(scene.image, self, new MapLabel(ATTN1, 10, 499), 0, List.of(), 13 * sa / 32,
                22 * sa / 32, Colormap.MAGMA).write(out, "self-attention-sun");
        SelfAttentionMap.render(scene.image, self, new MapLabel(ATTN1, 10, 499), 0, List.of(0), 22 * sa / 32,
                6 * sa / 32, Colormap.MAGMA).write(out, "self-attention-mountain");

        FeatureFrame a = new FeatureFrame(new MapLabel("up_blocks.2.attentions.1", 19, 49), steps.getLast().map());
        FeatureFrame b = new FeatureFrame(new MapLabel("up_blocks.2.attentions.1", 10, 499), steps.get(2).map());
        PcaRgb.render(List.of(a), List.of(scene.image), PcaRgb.Fit.PER_IMAGE, 0.01).write(out, "pca-single");
        PcaRgb.render(steps, List.of(), PcaRgb.Fit.SHARED, 0.01).write(out, "pca-shared");
        CosineSimilarity.render(a, 13, 22, List.of(a, b), Colormap.VIRIDIS).write(out, "cosine");
        FeatureMap anomalous = scene.features(c2, 16, 16, 7, true);
        TokenNorms.render(anomalous, new MapLabel("up_blocks.1.attentions.0", 19, 49), scene.image)
                .write(out, "norms");
        TokenNorms.histogram(anomalous, new MapLabel("up_blocks.1.attentions.0", 19, 49), 40)
                .write(out, "norms-histogram");
    }

    private static void write(OutputDirectory out, String name, List<Picture> pages) {
        for (int i = 0; i < pages.size(); i++) {
            pages.get(i).write(out, pages.size() == 1 ? name : name + "-p" + (i + 1));
        }
    }

    static List<Integer> range(int from, int to) {
        List<Integer> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(i);
        }
        return out;
    }

    /** java … Samples DIR: renders the full-size set into DIR (overwriting). */
    public static void main(String[] args) {
        renderAll(OutputDirectory.open(Path.of(args[0]), "samples", true), new SyntheticScene(), true);
    }
}
