package dev.unetlens.analysis.paper;

import dev.unetlens.analysis.Charts;
import dev.unetlens.analysis.paper.PaperMaps.ImageMaps;
import dev.unetlens.analysis.paper.PaperRun.Result;
import dev.unetlens.hook.PaperModules;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.viz.Chart;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.colorize.Colormap;
import dev.unetlens.viz.render.Canvas;
import dev.unetlens.viz.render.ColorBar;
import dev.unetlens.viz.render.Layout;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.style.Styler;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The paper's figures: probe accuracy per module for each grid; corner-corner, border-border and other-other over
 * modules for each group variant; the 3×3 group matrices of every module; the anomaly norm ratio per module with
 * error bars; norm maps of a few images with the detected patches.
 */
public final class PaperFigures {
    static final int MAX_NORM_IMAGES = 4;
    static final int MAX_NORM_MODULES = 6;
    static final double NORM_SCALE = 3;

    private PaperFigures() {
    }

    public static void write(Result r, OutputDirectory out) {
        List<String> labels = r.maps().modules().stream().map(PaperModules::shortLabel).toList();
        if (!r.probe().isEmpty()) {
            probe(r, labels).write(out, "probe_accuracy");
        }
        if (!r.groups().isEmpty()) {
            for (int v = 0; v < GroupSimilarity.VARIANTS.size(); v++) {
                if (v < 2 || r.groups().values().iterator().next().cropped() != null) {
                    groupLines(r, labels, v).write(out, "group_similarity_" + GroupSimilarity.VARIANTS.get(v));
                }
            }
            groupMatrices(r).write(out, "group_matrices.png");
        }
        if (r.anomalies() != null) {
            ratios(r, labels).write(out, "anomaly_ratio");
            normMaps(r).write(out, "norm_maps.png");
        }
    }

    static CategoryChart categories(String title, String yTitle, int modules) {
        CategoryChart c = new CategoryChartBuilder().width(Math.max(900, 60 + 24 * modules)).height(560).title(title)
                .xAxisTitle("module").yAxisTitle(yTitle).build();
        Chart.style(c.getStyler());
        c.getStyler().setDefaultSeriesRenderStyle(org.knowm.xchart.CategorySeries.CategorySeriesRenderStyle.Line);
        c.getStyler().setXAxisLabelRotation(90);
        c.getStyler().setXAxisMaxLabelCount(modules);
        c.getStyler().setOverlapped(true);
        c.getStyler().setLegendVisible(true);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        c.getStyler().setLegendBorderColor(Color.WHITE);
        c.getStyler().setMarkerSize(6);
        return c;
    }

    static Chart probe(Result r, List<String> labels) {
        PositionProbe.Settings s = r.options().probe();
        int last = s.epochs() - 1;
        CategoryChart c = categories("Positional probe: test accuracy after " + s.epochs() + " epochs", "accuracy (both coordinates)",
                labels.size());
        for (int g = 0; g < s.grids().size(); g++) {
            List<Double> acc = new ArrayList<>();
            for (String m : r.maps().modules()) {
                acc.add(r.probe().get(m).accuracy()[last][g]);
            }
            CategorySeries series = c.addSeries("grid " + s.grids().get(g), labels, acc);
            series.setLineColor(Charts.sequential(g, s.grids().size()));
            series.setMarkerColor(Charts.sequential(g, s.grids().size()));
        }
        List<Double> chance = r.maps().modules().stream().map(m -> r.probe().get(m).chance()[s.grids().size() - 1]).toList();
        CategorySeries ch = c.addSeries("chance, grid " + s.grids().getLast(), labels, chance);
        ch.setLineColor(Color.BLACK);
        ch.setLineStyle(Charts.DASHED);
        ch.setMarker(org.knowm.xchart.style.markers.SeriesMarkers.NONE);
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setYAxisMax(1.0);
        return new Chart(c, "paper-probe-accuracy", "probe accuracy per module for each grid size",
                Map.of("modules", r.maps().modules(), "grids", s.grids(), "epoch", s.epochs()));
    }

    static Chart groupLines(Result r, List<String> labels, int variant) {
        String name = GroupSimilarity.VARIANTS.get(variant);
        CategoryChart c = categories("Token-group similarity (" + name.replace('_', ' ') + ")", "mean cosine similarity",
                labels.size());
        Color[] colors = {new Color(0xD6, 0x27, 0x28), new Color(0x1F, 0x77, 0xB4), new Color(0x55, 0x55, 0x55)};
        for (int g = 0; g < 3; g++) {
            List<Double> v = new ArrayList<>();
            for (String m : r.maps().modules()) {
                double[][] mat = matrix(r.groups().get(m), variant);
                v.add(Double.isFinite(mat[g][g]) ? mat[g][g] : null);
            }
            CategorySeries s = c.addSeries(TokenGroups.NAMES[g] + "–" + TokenGroups.NAMES[g], labels, v);
            s.setLineColor(colors[g]);
            s.setMarkerColor(colors[g]);
        }
        return new Chart(c, "paper-group-similarity", "corner-corner, border-border and other-other similarity over modules ("
                + name + ")", Map.of("modules", r.maps().modules(), "variant", name));
    }

    static double[][] matrix(GroupSimilarity g, int variant) {
        return switch (variant) {
            case 0 -> g.plain();
            case 1 -> g.ring();
            default -> g.cropped();
        };
    }

    static Chart ratios(Result r, List<String> labels) {
        CategoryChart c = categories("High-norm anomalies: norm ratio at the labels (" + r.anomalies().labels().size() + ", "
                + (r.anomalies().fromFile() ? "from --labels" : "detected at " + PaperModules.shortLabel(r.options().reference()))
                + ")", "window norm / map mean norm", labels.size());
        List<Double> mean = new ArrayList<>();
        List<Double> std = new ArrayList<>();
        for (String m : r.maps().modules()) {
            Anomalies.Ratio a = r.anomalies().modules().get(m).ratio();
            mean.add(Double.isFinite(a.mean()) ? a.mean() : null);
            std.add(Double.isFinite(a.std()) ? a.std() : 0.0);
        }
        if (!r.anomalies().labels().isEmpty()) {
            CategorySeries s = c.addSeries("mean ± std over labels", labels, mean, std);
            s.setLineColor(new Color(0xB0, 0x3A, 0x2E));
            s.setMarkerColor(new Color(0xB0, 0x3A, 0x2E));
        } else {
            c.setTitle("High-norm anomalies: no labels (none given, none detected at "
                    + PaperModules.shortLabel(r.options().reference()) + "), no ratios");
        }
        CategorySeries one = c.addSeries("ratio 1", labels, labels.stream().map(l -> 1.0).toList());
        one.setLineColor(Color.BLACK);
        one.setLineStyle(Charts.DASHED);
        one.setMarker(org.knowm.xchart.style.markers.SeriesMarkers.NONE);
        c.getStyler().setErrorBarsColor(new Color(0xB0, 0x3A, 0x2E));
        c.getStyler().setYAxisMin(0.0);
        return new Chart(c, "paper-anomaly-ratio", "mean norm ratio at the anomaly labels per module, with std",
                Map.of("modules", r.maps().modules(), "labels", r.anomalies().labels().size()));
    }

    /** Every module's 3×3 matrices (plain, ring dropped, image cropped) as coloured cells with their values. */
    static Picture groupMatrices(Result r) {
        List<String> modules = r.maps().modules();
        int cell = 26;
        int variants = r.groups().get(modules.getFirst()).cropped() == null ? 2 : 3;
        int blockW = variants * (3 * cell + 8) + 8;
        int blockH = 3 * cell + 40;
        int perRow = Math.max(1, Math.min(modules.size(), 1400 / blockW));
        int rows = (modules.size() + perRow - 1) / perRow;
        String title = "Token-group similarity per module: corner, border, other (rows and columns)";
        List<String> sub = List.of("each module: " + String.join(" | ", GroupSimilarity.VARIANTS.subList(0, variants))
                + " · mean cosine over images (" + r.groups().get(modules.getFirst()).images() + ") · colour viridis over [0, 1]");
        int top = Canvas.MARGIN + Canvas.titleBlockHeight(sub);
        ColorBar bar = ColorBar.of(0, 1, v -> Colormap.VIRIDIS.rgb(Math.max(0, Math.min(1, v))), "cosine similarity");
        int width = Math.max(perRow * blockW, Canvas.titleBlockWidth(title, sub)) + 2 * Canvas.MARGIN + bar.width() + Canvas.GAP;
        int height = top + rows * blockH + Canvas.MARGIN;
        try (Canvas c = new Canvas(width, height)) {
            c.titleBlock(Canvas.MARGIN, Canvas.MARGIN, title, sub);
            for (int i = 0; i < modules.size(); i++) {
                int x0 = Canvas.MARGIN + (i % perRow) * blockW;
                int y0 = top + (i / perRow) * blockH;
                c.text(x0, y0, PaperModules.shortLabel(modules.get(i)), Canvas.LABEL, Canvas.INK);
                GroupSimilarity g = r.groups().get(modules.get(i));
                for (int v = 0; v < variants; v++) {
                    cells(c, matrix(g, v), x0 + v * (3 * cell + 8), y0 + 18, cell);
                }
            }
            bar.draw(c, width - Canvas.MARGIN - bar.width(), top, Math.min(300, rows * blockH - 20));
            return new Picture(c.image(), "paper-group-matrices", title, Map.of("modules", modules));
        }
    }

    private static void cells(Canvas c, double[][] m, int x0, int y0, int cell) {
        Graphics2D g = c.graphics();
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                double v = m[i][j];
                Color fill = Double.isFinite(v) ? new Color(Colormap.VIRIDIS.rgb(Math.max(0, Math.min(1, v)))) : Canvas.PANEL;
                g.setColor(fill);
                g.fillRect(x0 + j * cell, y0 + i * cell, cell, cell);
                String text = Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v).replace("0.", ".") : "–";
                Color ink = Double.isFinite(v) && v > 0.6 ? Color.BLACK : Color.WHITE;
                c.textCentered(x0 + j * cell + cell / 2, y0 + i * cell + 7, text, new java.awt.Font(java.awt.Font.SANS_SERIF,
                        java.awt.Font.PLAIN, 9), Double.isFinite(v) ? ink : Canvas.MUTED);
            }
        }
    }

    /** Norm maps (norm / the map's mean, viridis over [0, 3]) of the first images at a few modules, patches outlined. */
    static Picture normMaps(Result r) {
        List<String> modules = pick(r.maps().modules(), r.options().reference());
        int images = Math.min(MAX_NORM_IMAGES, r.names().size());
        List<Layout.Row> rows = new ArrayList<>();
        for (int i = 0; i < images; i++) {
            List<Layout.Panel> panels = new ArrayList<>();
            for (String m : modules) {
                ImageMaps im = r.maps().maps(m).get(i);
                List<Anomalies.Found> found = r.anomalies().modules().get(m).found().stream().filter(f -> f.image() == im.image()).toList();
                panels.add(new Layout.Panel(normImage(im.norms(), found), PaperModules.shortLabel(m) + " · "
                        + im.norms().height() + "×" + im.norms().width() + " · " + found.size() + " patch" + (found.size() == 1 ? "" : "es")));
            }
            rows.add(new Layout.Row(r.names().get(i), panels));
        }
        String title = "Norm maps: L2 norm over channels of every token";
        List<String> sub = List.of("norm / the map's mean norm, viridis over [0, " + (int) NORM_SCALE + "] · red boxes: patches"
                + " above median + " + r.options().k() + "·1.4826·MAD");
        ColorBar bar = ColorBar.of(0, NORM_SCALE, v -> Colormap.VIRIDIS.rgb(v / NORM_SCALE), "norm / mean norm");
        BufferedImage img = Layout.panels(title, sub, rows, bar);
        return new Picture(img, "paper-norm-maps", title, Map.of("modules", modules, "images", r.names().subList(0, images)));
    }

    /** Up to six modules spread over the list, the reference among them. */
    static List<String> pick(List<String> modules, String reference) {
        if (modules.size() <= MAX_NORM_MODULES) {
            return modules;
        }
        List<String> out = new ArrayList<>();
        for (int k = 0; k < MAX_NORM_MODULES - 1; k++) {
            out.add(modules.get((int) Math.round((double) k * (modules.size() - 1) / (MAX_NORM_MODULES - 2))));
        }
        if (!out.contains(reference) && modules.contains(reference)) {
            out.add(reference);
        }
        List<String> unique = out.stream().distinct().sorted(java.util.Comparator.comparingInt(modules::indexOf)).toList();
        return unique;
    }

    static BufferedImage normImage(NormMap m, List<Anomalies.Found> found) {
        int f = Layout.fit(m.height(), m.width(), 180);
        BufferedImage img = new BufferedImage(m.width() * f, m.height() * f, BufferedImage.TYPE_INT_RGB);
        double mean = m.mean();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                img.setRGB(x, y, Colormap.VIRIDIS.rgb(Math.min(1, m.at(y / f, x / f) / mean / NORM_SCALE)));
            }
        }
        Graphics2D g = img.createGraphics();
        g.setColor(Color.RED);
        g.setStroke(new BasicStroke(2f));
        for (Anomalies.Found p : found) {
            g.drawRect(p.patch().col() * f - 1, p.patch().row() * f - 1, p.patch().cols() * f + 1, p.patch().rows() * f + 1);
        }
        g.dispose();
        return img;
    }

    static double[] finite(double[] v) {
        return Arrays.stream(v).filter(Double::isFinite).toArray();
    }
}
