package dev.unetlens.viz;

import dev.unetlens.io.OutputDirectory;
import dev.unetlens.viz.grid.FeatureGrid;
import dev.unetlens.viz.grid.GridOptions;

import java.nio.file.Path;

/** Renders one of every kind of picture from {@link SyntheticScene} into an output directory, for looking at. */
final class Samples {
    private Samples() {
    }

    static void renderAll(OutputDirectory out) {
        SyntheticScene scene = new SyntheticScene();
        FeatureMap f64 = scene.features(320, 64, 64, 1, false);
        FeatureMap f8 = scene.features(1280, 8, 8, 2, true);
        var pages = FeatureGrid.render(f64, new MapLabel("down_blocks.0.attentions.0", 5, 751), GridOptions.defaults());
        for (int i = 0; i < pages.size(); i++) {
            pages.get(i).write(out, "grid-64-p" + (i + 1));
        }
        var pages8 = FeatureGrid.render(f8, new MapLabel("mid_block", 5, 751), GridOptions.defaults());
        for (int i = 0; i < pages8.size(); i++) {
            pages8.get(i).write(out, "grid-mid-p" + (i + 1));
        }
    }

    public static void main(String[] args) {
        renderAll(OutputDirectory.open(Path.of(args[0]), "samples", true));
    }
}
