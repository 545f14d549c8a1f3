package dev.unetlens.analysis.paper;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.analysis.Outputs;
import dev.unetlens.analysis.Units;
import dev.unetlens.hook.PaperModules;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.colorize.Colormap;
import dev.unetlens.viz.render.Canvas;
import dev.unetlens.viz.render.ColorBar;

import java.awt.Color;
import java.util.List;
import java.util.Map;

/**
 * Writes an {@link AnomalyAtlas}: {@code results.json}, {@code atlas_rate.npy} and {@code atlas_stability.npy}
 * (module, timestep) float64, and {@code atlas.png}: the two as heat maps, modules down, timesteps across.
 */
public final class AtlasReport {
    private AtlasReport() {
    }

    public static void write(AnomalyAtlas.Result r, ObjectNode request, OutputDirectory out) {
        List<String> modules = r.options().sampling().points();
        List<Integer> ts = r.options().sampling().timesteps();
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        json.put("analysis", "anomaly atlas");
        json.put("what", "per module and timestep: the share of image-seed pairs with a high-norm patch, and how often a"
                + " patch recurs within " + AnomalyAtlas.SAME_PLACE + " token of its place under the other seeds");
        ObjectNode q = r.options().sampling().toJson();
        q.remove("seed");
        q.set("seeds", q.arrayNode().addAll(r.options().seeds().stream().map(q::numberNode).toList()));
        q.put("k", r.options().k());
        q.put("detector", "tokens with norm > median + k·1.4826·MAD of the map's norms, 8-connected into patches");
        q.setAll(request);
        json.set("request", q);
        json.set("modules", q.arrayNode().addAll(modules.stream().map(q::textNode).toList()));
        json.set("timesteps", Outputs.quantity(Units.TIMESTEP, q.arrayNode().addAll(ts.stream().map(q::numberNode).toList())));
        json.set("anomalous_rate", Outputs.quantity("share of image-seed pairs, [module][timestep]", Outputs.array(r.rate())));
        json.set("stability", Outputs.quantity("share of the other seeds, [module][timestep]; null: no patch or one seed",
                Outputs.array(r.stability())));
        com.fasterxml.jackson.databind.node.ArrayNode counts = json.putArray("patches");
        for (int[] row : r.patches()) {
            counts.add(q.arrayNode().addAll(java.util.Arrays.stream(row).mapToObj(q::numberNode).toList()));
        }
        Outputs.writeNpy(out, "atlas_rate.npy", new long[] {modules.size(), ts.size()}, flat(r.rate()),
                "share of image-seed pairs with a patch, (module, timestep), float64");
        Outputs.writeNpy(out, "atlas_stability.npy", new long[] {modules.size(), ts.size()}, flat(r.stability()),
                "share of other seeds with a patch within one token, (module, timestep), float64 (NaN: none)");
        picture(r).write(out, "atlas.png");
        Outputs.writeResults(out, json);
    }

    static double[] flat(double[][] v) {
        return java.util.Arrays.stream(v).flatMapToDouble(java.util.Arrays::stream).toArray();
    }

    static Picture picture(AnomalyAtlas.Result r) {
        List<String> modules = r.options().sampling().points();
        List<Integer> ts = r.options().sampling().timesteps();
        int cell = Math.max(14, Math.min(36, 600 / Math.max(1, ts.size())));
        int rowH = 16;
        int labelW = modules.stream().mapToInt(m -> Canvas.textWidth(PaperModules.shortLabel(m), Canvas.SMALL)).max().orElse(40) + 8;
        String title = "Anomaly atlas: " + r.names().size() + " images × " + r.options().seeds().size() + " seeds";
        List<String> sub = List.of("left: share of image–seed pairs with a high-norm patch · right: share of the other seeds"
                + " with a patch within 1 token (grey: no patch)", "columns: timestep t · rows: modules");
        ColorBar bar = ColorBar.of(0, 1, v -> Colormap.VIRIDIS.rgb(Math.max(0, Math.min(1, v))), "share");
        int panelW = ts.size() * cell;
        int step = Math.max(panelW + 40, Canvas.textWidth("anomalous images", Canvas.LABEL) + 24);
        int top = Canvas.MARGIN + Canvas.titleBlockHeight(sub) + 22;
        int width = Math.max(Canvas.MARGIN * 2 + labelW + step + Math.max(panelW, Canvas.textWidth("stability across seeds", Canvas.LABEL)) + bar.width() + Canvas.GAP,
                Canvas.titleBlockWidth(title, sub) + 2 * Canvas.MARGIN);
        int height = top + modules.size() * rowH + 40 + Canvas.MARGIN;
        try (Canvas c = new Canvas(width, height)) {
            c.titleBlock(Canvas.MARGIN, Canvas.MARGIN, title, sub);
            for (int m = 0; m < modules.size(); m++) {
                c.textRight(Canvas.MARGIN + labelW - 6, top + m * rowH + rowH / 2, PaperModules.shortLabel(modules.get(m)),
                        Canvas.SMALL, Canvas.INK);
            }
            double[][][] panels = {r.rate(), r.stability()};
            String[] names = {"anomalous images", "stability across seeds"};
            for (int p = 0; p < 2; p++) {
                int x0 = Canvas.MARGIN + labelW + p * step;
                c.text(x0, top - 20, names[p], Canvas.LABEL, Canvas.INK);
                for (int m = 0; m < modules.size(); m++) {
                    for (int t = 0; t < ts.size(); t++) {
                        double v = panels[p][m][t];
                        c.graphics().setColor(Double.isFinite(v) ? new Color(Colormap.VIRIDIS.rgb(v)) : Canvas.PANEL);
                        c.graphics().fillRect(x0 + t * cell, top + m * rowH, cell - 1, rowH - 1);
                    }
                }
                for (int t = 0; t < ts.size(); t++) {
                    if (cell >= 24 || t % Math.max(1, 24 / cell) == 0) {
                        c.textCentered(x0 + t * cell + cell / 2, top + modules.size() * rowH + 4, Integer.toString(ts.get(t)),
                                Canvas.SMALL, Canvas.MUTED);
                    }
                }
            }
            bar.draw(c, width - Canvas.MARGIN - bar.width(), top, Math.min(240, modules.size() * rowH));
            return new Picture(c.image(), "anomaly-atlas", title, Map.of("modules", modules, "timesteps", ts,
                    "seeds", r.options().seeds()));
        }
    }
}
