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
 * The same module at several steps side by side, as Dump U-Net's examples set steps 1, 5, 10 next to each other:
 * one column per step, one row per {@link StripRow} (a reduced map or a channel). With {@link AutoScope#SHARED}
 * each row is scaled once over all its steps, so a colour means the same value along the row. More than
 * {@value #MAX_COLUMNS} steps wrap onto further lines of about equal length (30 steps: 4 lines of 8 columns).
 */
public final class StepStrip {
    static final int DISPLAY = 224;
    /** The most steps side by side (8 × 224 px ≈ 1.9k px), the rest wraps. */
    static final int MAX_COLUMNS = 8;

    private StepStrip() {
    }

    /** frames: the module's maps in step order (same module, same shape). */
    public static Picture render(List<FeatureFrame> frames, List<StripRow> rows, Colorizer colorizer,
                                 AutoScope scope) {
        if (frames.isEmpty() || rows.isEmpty()) {
            throw new IllegalArgumentException("a step strip needs at least one step and one row");
        }
        String module = frames.getFirst().label().module();
        var first = frames.getFirst().map();
        for (FeatureFrame f : frames) {
            if (!f.label().module().equals(module) || f.map().channels() != first.channels()
                    || f.map().height() != first.height() || f.map().width() != first.width()) {
                throw new IllegalArgumentException("a step strip shows one module at one shape; got "
                        + f.label().module() + " " + f.map().shapeText() + " beside " + module + " "
                        + first.shapeText());
            }
        }
        boolean perTile = scope == AutoScope.TILE && colorizer.transform().needsRange();
        int s = Layout.fit(first.height(), first.width(), DISPLAY);
        List<List<Layout.Panel>> panelsByRow = new ArrayList<>();
        List<String> rowLabels = new ArrayList<>();
        List<List<Double>> ranges = new ArrayList<>();
        double[] all = {Double.NaN, Double.NaN};
        for (StripRow row : rows) {
            List<Plane> planes = new ArrayList<>();
            double[] range = {Double.NaN, Double.NaN};
            for (FeatureFrame f : frames) {
                Plane p = row.of(f.map());
                planes.add(p);
                range = Ranges.union(range, p.range());
            }
            all = Ranges.union(all, range);
            ranges.add(List.of(range[0], range[1]));
            List<Layout.Panel> panels = new ArrayList<>();
            for (int i = 0; i < planes.size(); i++) {
                Plane p = planes.get(i);
                double[] r = perTile ? p.range() : range;
                BufferedImage img = Layout.scaled(colorizer.image(p, r[0], r[1]), p.width() * s, p.height() * s);
                var label = frames.get(i).label();
                panels.add(panelsByRow.size() == rows.size() - 1 || rows.size() == 1
                        ? new Layout.Panel(img, label.stepText().isEmpty() ? "#" + i : label.stepText())
                        : new Layout.Panel(img));
            }
            panelsByRow.add(panels);
            rowLabels.add(rows.size() == 1 ? null
                    : row.label() + (perTile || !colorizer.transform().needsRange() ? ""
                            : " (" + Ticks.compact(range[0]) + " … " + Ticks.compact(range[1]) + ")"));
        }
        List<Layout.Row> layoutRows = wrapped(panelsByRow, rowLabels);
        boolean numeric = !perTile && (rows.size() == 1 || !colorizer.transform().needsRange());
        ColorBar bar = numeric ? FeatureGrid.numericBar(colorizer, all, rows.size() == 1 ? rows.getFirst().label()
                : "value")
                : ColorBar.relative(u -> colorizer.rgb(u, 0, 1), perTile ? "tile min" : "row min",
                perTile ? "tile max" : "row max", "value");
        List<String> what = rows.stream().map(StripRow::label).toList();
        String firstLine = Text.join(frames.getFirst().label().source(), first.shapeText(), frames.size() + " steps",
                rows.size() == 1 ? describe(rows.getFirst()) : String.join(", ", what));
        String second = colorizer.label() + (colorizer.transform().needsRange()
                ? (perTile ? " · each tile scaled to its own range"
                        : rows.size() == 1 ? " · one scale over all steps" : " · one scale per row over all steps")
                : "");
        var image = Layout.panels(module, List.of(firstLine, second), layoutRows, bar);

        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("module", module);
        fields.put("steps", frames.stream().map(f -> f.label().step()).toList());
        fields.put("timesteps", frames.stream().map(f -> f.label().timestep()).filter(t -> !Double.isNaN(t)).toList());
        fields.put("shape", List.of(first.channels(), first.height(), first.width()));
        fields.put("rows", what);
        fields.put("rowRanges", ranges);
        fields.putAll(FeatureGrid.colorFields(colorizer, perTile ? AutoScope.TILE : AutoScope.SHARED,
                new double[] {Double.NaN, Double.NaN}));
        return new Picture(image, "step-strip", module + " · " + firstLine, fields);
    }

    /** The rows, each cut into lines of at most {@value #MAX_COLUMNS} steps (of about equal length), line by line. */
    static List<Layout.Row> wrapped(List<List<Layout.Panel>> panelsByRow, List<String> labels) {
        int n = panelsByRow.getFirst().size();
        int lines = (n + MAX_COLUMNS - 1) / MAX_COLUMNS;
        int perLine = (n + lines - 1) / lines;
        List<Layout.Row> out = new ArrayList<>();
        for (int start = 0; start < n; start += perLine) {
            for (int r = 0; r < panelsByRow.size(); r++) {
                List<Layout.Panel> line = panelsByRow.get(r).subList(start, Math.min(n, start + perLine));
                out.add(new Layout.Row(start == 0 ? labels.get(r) : labels.get(r) == null ? null : "", line));
            }
        }
        return out;
    }

    private static String describe(StripRow row) {
        return switch (row) {
            case StripRow.Reduced(Reduction r) -> r.description();
            case StripRow.Channel(int c) -> "channel " + c;
        };
    }
}
