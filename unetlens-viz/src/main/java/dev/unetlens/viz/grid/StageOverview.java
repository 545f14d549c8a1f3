package dev.unetlens.viz.grid;

import dev.unetlens.viz.FeatureFrame;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.Plane;
import dev.unetlens.viz.Ranges;
import dev.unetlens.viz.Resample;
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
 * A model's stages in rows, one reduced map per stage, captioned with its name, shape and value range: the U-Net's
 * blocks ({@link UNetOverview}), the VAE's encoder and decoder stages. A row may hold pictures too (the VAE's input
 * and output images). Every map is brought to about {@value #DISPLAY} px: enlarged (nearest) when small, reduced
 * (bicubic) when larger. With {@link AutoScope#TILE} each map is scaled to its own range, since stages differ
 * in magnitude by orders; with SHARED one range spans all.
 */
public final class StageOverview {
    static final int DISPLAY = 128;

    private StageOverview() {
    }

    /** One panel of a row: a stage's map, or a picture with its caption lines. */
    public sealed interface Cell {
        /** A stage's output, drawn reduced over its channels. */
        record Map(FeatureFrame frame) implements Cell {
        }

        /**
         * A map already reduced over its channels (so that a caller need not keep a large stage whole).
         *
         * @param label  the stage's name and step
         * @param plane  the reduced map
         * @param shape  [C, H, W] of the stage it was reduced from
         */
        record Reduced(MapLabel label, Plane plane, List<Integer> shape) implements Cell {
            public Reduced {
                shape = List.copyOf(shape);
            }

            /** {@code frame} reduced now. */
            public static Reduced of(FeatureFrame frame, Reduction reduction) {
                var m = frame.map();
                return new Reduced(frame.label(), reduction.apply(m), List.of(m.channels(), m.height(), m.width()));
            }
        }

        /** A picture as it is (an image the stages start from or end with). */
        record Image(BufferedImage image, List<String> caption) implements Cell {
            public Image {
                caption = List.copyOf(caption);
            }
        }
    }

    /** A row: its label and its panels, in order. */
    public record Group(String name, List<Cell> cells) {
        public Group {
            cells = List.copyOf(cells);
        }
    }

    /**
     * @param title   the picture's title ("U-Net overview")
     * @param kind    the picture kind for the manifest ({@code unet-overview})
     * @param entries the manifest field listing each map ({@code blocks}, {@code stages})
     */
    public record Names(String title, String kind, String entries) {
    }

    public static Picture render(Names names, List<Group> groups, Reduction reduction, Colorizer colorizer,
                                 AutoScope scope) {
        List<List<Cell>> cells = new ArrayList<>();                            // maps reduced once
        List<Cell.Reduced> maps = new ArrayList<>();
        for (Group g : groups) {
            List<Cell> row = new ArrayList<>();
            for (Cell c : g.cells()) {
                Cell r = c instanceof Cell.Map m ? Cell.Reduced.of(m.frame(), reduction) : c;
                row.add(r);
                if (r instanceof Cell.Reduced red) {
                    maps.add(red);
                }
            }
            cells.add(row);
        }
        if (maps.isEmpty()) {
            throw new IllegalArgumentException("an overview needs at least one map");
        }
        boolean perTile = scope == AutoScope.TILE && colorizer.transform().needsRange();
        double[] all = {Double.NaN, Double.NaN};
        for (Cell.Reduced r : maps) {
            all = Ranges.union(all, r.plane().range());
        }
        List<Layout.Row> rows = new ArrayList<>();
        List<Map<String, Object>> entries = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            List<Layout.Panel> panels = new ArrayList<>();
            for (Cell c : cells.get(i)) {
                switch (c) {
                    case Cell.Image img -> panels.add(new Layout.Panel(img.image(), img.caption()));
                    case Cell.Reduced r -> {
                        panels.add(panel(r, perTile ? r.plane().range() : all, colorizer));
                        entries.add(entry(r));
                    }
                    case Cell.Map m -> throw new IllegalStateException("reduced above");
                }
            }
            if (!panels.isEmpty()) {
                rows.add(new Layout.Row(groups.get(i).name(), panels));
            }
        }
        MapLabel firstLabel = maps.getFirst().label();
        double[] range = all;
        ColorBar bar = perTile
                ? ColorBar.relative(u -> colorizer.rgb(u, 0, 1), "map min", "map max", reduction.cliName())
                : FeatureGrid.numericBar(colorizer, range, reduction.cliName());
        String first = Text.join(firstLabel.stepText(), maps.size() + " " + names.entries(), reduction.description());
        String second = colorizer.label() + (colorizer.transform().needsRange()
                ? (perTile ? " · each map scaled to its own range" : " · one scale over all maps") : "");
        var image = Layout.panels(names.title(), List.of(first, second), rows, bar);
        Map<String, Object> fields = new LinkedHashMap<>();
        if (firstLabel.step() >= 0) {
            fields.put("step", firstLabel.step());
        }
        fields.put("reduction", reduction.cliName());
        fields.put(names.entries(), entries);
        fields.putAll(FeatureGrid.colorFields(colorizer, perTile ? AutoScope.TILE : AutoScope.SHARED, range));
        return new Picture(image, names.kind(), names.title() + " · " + first, fields);
    }

    /** A map coloured over {@code r}, brought to about {@value #DISPLAY} px, captioned with name, shape and range. */
    private static Layout.Panel panel(Cell.Reduced c, double[] r, Colorizer colorizer) {
        Plane p = c.plane();
        Plane shown = p;
        int longer = Math.max(p.height(), p.width());
        if (longer > DISPLAY) {
            double s = (double) DISPLAY / longer;
            shown = Resample.bicubic(p, Math.max(1, (int) Math.round(p.height() * s)), Math.max(1, (int) Math.round(p.width() * s)));
        }
        int k = Layout.fit(shown.height(), shown.width(), DISPLAY);
        BufferedImage img = Layout.scaled(colorizer.image(shown, r[0], r[1]), shown.width() * k, shown.height() * k);
        double[] own = p.range();
        return new Layout.Panel(img, c.label().module(), c.shape().toString(), Ticks.compact(own[0]) + " … " + Ticks.compact(own[1]));
    }

    private static Map<String, Object> entry(Cell.Reduced c) {
        Map<String, Object> e = new LinkedHashMap<>();
        double[] own = c.plane().range();
        e.put("module", c.label().module());
        e.put("shape", c.shape());
        e.put("range", List.of(own[0], own[1]));
        return e;
    }
}
