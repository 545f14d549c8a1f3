package dev.unetlens.viz.grid;

import dev.unetlens.viz.FeatureFrame;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.Plane;
import dev.unetlens.viz.Ranges;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.render.ColorBar;
import dev.unetlens.viz.render.Layout;
import dev.unetlens.viz.render.Text;
import dev.unetlens.viz.render.Ticks;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The whole U-Net at one step: one reduced map per block, the down path in the first row, the mid block in the
 * second, the up path in the third (anything else in a fourth), each block in the order given. Every map is
 * enlarged to about 128 px whatever its resolution, and captioned with its path, shape and value range. With
 * {@link AutoScope#TILE} (the default of {@link #render(List, Reduction, Colorizer)}) each map is scaled to its
 * own range, since blocks differ in magnitude by orders; with SHARED one range spans all.
 */
public final class UNetOverview {
    static final int DISPLAY = 128;

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
        boolean perTile = scope == AutoScope.TILE && colorizer.transform().needsRange();
        List<Plane> planes = new ArrayList<>();
        double[] all = {Double.NaN, Double.NaN};
        for (FeatureFrame b : blocks) {
            Plane p = reduction.apply(b.map());
            planes.add(p);
            all = Ranges.union(all, p.range());
        }
        String[] stageNames = {"down", "mid", "up", "other"};
        List<List<Layout.Panel>> stages = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
                new ArrayList<>());
        List<Map<String, Object>> entries = new ArrayList<>();
        for (int i = 0; i < blocks.size(); i++) {
            FeatureFrame b = blocks.get(i);
            Plane p = planes.get(i);
            double[] r = perTile ? p.range() : all;
            int s = Layout.fit(p.height(), p.width(), DISPLAY);
            BufferedImage img = Layout.scaled(colorizer.image(p, r[0], r[1]), p.width() * s, p.height() * s);
            double[] own = p.range();
            stages.get(stage(b.label().module())).add(new Layout.Panel(img, b.label().module(),
                    b.map().shapeText(), Ticks.compact(own[0]) + " … " + Ticks.compact(own[1])));
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("module", b.label().module());
            e.put("shape", List.of(b.map().channels(), b.map().height(), b.map().width()));
            e.put("range", List.of(own[0], own[1]));
            entries.add(e);
        }
        List<Layout.Row> rows = new ArrayList<>();
        for (int i = 0; i < stages.size(); i++) {
            if (!stages.get(i).isEmpty()) {
                rows.add(new Layout.Row(stageNames[i], stages.get(i)));
            }
        }
        ColorBar bar = perTile
                ? ColorBar.relative(u -> colorizer.rgb(u, 0, 1), "map min", "map max", reduction.cliName())
                : FeatureGrid.numericBar(colorizer, all, reduction.cliName());
        String stepText = blocks.getFirst().label().stepText();
        String first = Text.join(stepText, blocks.size() + " blocks", reduction.description());
        String second = colorizer.label() + (colorizer.transform().needsRange()
                ? (perTile ? " · each map scaled to its own range" : " · one scale over all blocks") : "");
        var image = Layout.panels("U-Net overview", List.of(first, second), rows, bar);
        Map<String, Object> fields = new LinkedHashMap<>();
        if (blocks.getFirst().label().step() >= 0) {
            fields.put("step", blocks.getFirst().label().step());
        }
        fields.put("reduction", reduction.cliName());
        fields.put("blocks", entries);
        fields.putAll(FeatureGrid.colorFields(colorizer, perTile ? AutoScope.TILE : AutoScope.SHARED, all));
        return new Picture(image, "unet-overview", "U-Net overview · " + first, fields);
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
