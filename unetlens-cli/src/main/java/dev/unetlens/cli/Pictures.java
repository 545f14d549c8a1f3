package dev.unetlens.cli;

import dev.unetlens.io.RgbImage;
import dev.unetlens.viz.FeatureMap;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.colorize.ColorMethod;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.colorize.ValueTransform;
import dev.unetlens.viz.grid.AutoScope;
import dev.unetlens.viz.grid.FeatureGrid;
import dev.unetlens.viz.grid.GridOptions;
import dev.unetlens.viz.grid.ReducedMap;
import dev.unetlens.viz.grid.Reduction;
import dev.unetlens.viz.render.ColorBar;
import dev.unetlens.viz.render.Layout;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * The pictures {@code diff} and {@code sweep} write, drawn with the viz module: signed differences in Dump U-Net's
 * Red/Blue colorization on a symmetric scale (red +, blue −, white-free zero), 2-norm maps over the channels, and
 * labelled contact sheets.
 */
final class Pictures {
    /** Thumbnails of contact sheets are at least this wide (nearest upscaling for tiny images). */
    private static final int MIN_THUMB = 128;

    private Pictures() {
    }

    /** Red/Blue over [−scale, scale]: the same colour means the same signed value everywhere in a picture. */
    static Colorizer signedColors(double scale) {
        double s = scale > 0 ? scale : 1;
        return new Colorizer(new ValueTransform.Linear(-s, s), new ColorMethod.RedBlue());
    }

    /** The colour bar of {@link #signedColors}: [−scale, scale] with ticks, captioned with the values' unit. */
    static ColorBar signedBar(double scale, String unit) {
        double s = scale > 0 ? scale : 1;
        Colorizer c = signedColors(s);
        return ColorBar.of(-s, s, v -> c.rgb(v, -s, s), unit);
    }

    /**
     * A signed h×w map as a titled picture with its colour bar: Red/Blue over [−scale, scale], enlarged (nearest) to at
     * least {@value #MIN_THUMB} px.
     */
    static RgbImage signedPicture(String title, String subtitle, float[] v, int h, int w, double scale, String unit) {
        BufferedImage img = signed(v, 0, h, w, scale).toBufferedImage();
        int f = Math.max(1, (MIN_THUMB + w - 1) / w);
        List<Layout.Row> rows = List.of(new Layout.Row(null, List.of(new Layout.Panel(Layout.scaled(img, w * f, h * f)))));
        return RgbImage.of(Layout.panels(title, List.of(subtitle), rows, signedBar(scale, unit)));
    }

    /** A signed h×w map (values from {@code offset}) as an image, Red/Blue over [−scale, scale]. */
    static RgbImage signed(float[] v, int offset, int h, int w, double scale) {
        Colorizer c = signedColors(scale);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int k = 0; k < h * w; k++) {
            img.setRGB(k % w, k / w, c.rgb(v[offset + k], -scale, scale));
        }
        return RgbImage.of(img);
    }

    /** Every channel of a difference [C, H, W] as a grid, Red/Blue over ±max|Δ| (first page). */
    static Picture channelGrid(float[] chw, int c, int h, int w, MapLabel label) {
        double max = 0;
        for (float x : chw) {
            max = Math.max(max, Math.abs(x));
        }
        GridOptions o = new GridOptions(signedColors(max), List.of(), AutoScope.SHARED, GridOptions.DEFAULT_MAX_PAGE_SIDE);
        return FeatureGrid.render(new FeatureMap(chw, c, h, w), label, o).getFirst();
    }

    /** The 2-norm average over channels at each position, magma from 0. */
    static Picture norm(float[] chw, int c, int h, int w, MapLabel label) {
        return ReducedMap.render(new FeatureMap(chw, c, h, w), label, Reduction.L2, Colorizer.magma());
    }

    /** A labelled image for a contact sheet. */
    record Cell(String label, RgbImage image) {
    }

    /** A titled grid of labelled images, in order, {@code cols} per row (≤ 0: about square). */
    static RgbImage contactSheet(String title, String subtitle, List<Cell> cells, int cols) {
        return contactSheet(title, subtitle, cells, cols, null);
    }

    /** The same with a colour bar (null for none): for sheets of signed differences. */
    static RgbImage contactSheet(String title, String subtitle, List<Cell> cells, int cols, ColorBar bar) {
        int n = cells.size();
        int perRow = cols > 0 ? cols : (int) Math.ceil(Math.sqrt(n));
        List<Layout.Row> rows = new ArrayList<>();
        for (int start = 0; start < n; start += perRow) {
            List<Layout.Panel> panels = new ArrayList<>();
            for (Cell cell : cells.subList(start, Math.min(n, start + perRow))) {
                BufferedImage img = cell.image().toBufferedImage();
                int f = Math.max(1, (MIN_THUMB + img.getWidth() - 1) / img.getWidth());
                panels.add(new Layout.Panel(Layout.scaled(img, img.getWidth() * f, img.getHeight() * f), cell.label()));
            }
            rows.add(new Layout.Row(null, panels));
        }
        return RgbImage.of(Layout.panels(title, List.of(subtitle), rows, bar));
    }
}
