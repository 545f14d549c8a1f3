package dev.unetlens.viz.grid;

import dev.unetlens.viz.FeatureFrame;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.colorize.Colorizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The whole U-Net at one step: one reduced map per block, the down path in the first row, the mid block in the
 * second, the up path in the third (anything else in a fourth), each block in the order given ({@link StageOverview}).
 * Every map is brought to about 128 px whatever its resolution, and captioned with its path, shape and value range. With
 * {@link AutoScope#TILE} (the default of {@link #render(List, Reduction, Colorizer)}) each map is scaled to its
 * own range, since blocks differ in magnitude by orders; with SHARED one range spans all.
 */
public final class UNetOverview {
    private UNetOverview() {
    }

    /** Each map scaled to its own range. */
    public static Picture render(List<FeatureFrame> blocks, Reduction reduction, Colorizer colorizer) {
        return render(blocks, reduction, colorizer, AutoScope.TILE);
    }

    public static Picture render(List<FeatureFrame> blocks, Reduction reduction, Colorizer colorizer,
                                 AutoScope scope) {
        if (blocks.isEmpty()) {
            throw new IllegalArgumentException("an overview needs at least one block");
        }
        String[] stageNames = {"down", "mid", "up", "other"};
        List<List<StageOverview.Cell>> stages = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
                new ArrayList<>());
        for (FeatureFrame b : blocks) {
            stages.get(stage(b.label().module())).add(new StageOverview.Cell.Map(b));
        }
        List<StageOverview.Group> groups = new ArrayList<>();
        for (int i = 0; i < stages.size(); i++) {
            groups.add(new StageOverview.Group(stageNames[i], stages.get(i)));
        }
        return StageOverview.render(new StageOverview.Names("U-Net overview", "unet-overview", "blocks"), groups,
                reduction, colorizer, scope);
    }

    /** 0 down (conv_in, down_blocks, time embedding), 1 mid, 2 up (up_blocks, conv_norm_out, conv_out), 3 other. */
    static int stage(String module) {
        if (module.startsWith("down_blocks") || module.startsWith("conv_in")) {
            return 0;
        }
        if (module.startsWith("mid_block")) {
            return 1;
        }
        if (module.startsWith("up_blocks") || module.startsWith("conv_norm_out") || module.startsWith("conv_out")) {
            return 2;
        }
        return 3;
    }
}
