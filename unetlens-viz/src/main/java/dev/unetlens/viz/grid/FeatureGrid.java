package dev.unetlens.viz.grid;

import dev.unetlens.viz.FeatureMap;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.Plane;
import dev.unetlens.viz.Ranges;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.render.Canvas;
import dev.unetlens.viz.render.ColorBar;
import dev.unetlens.viz.render.Layout;
import dev.unetlens.viz.render.Text;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every channel of a feature map as a tile — Dump U-Net's feature picture — with the channel numbers along the
 * rows and columns, a title naming module, step, timestep and shape, and a colour bar. Tiles are at least 32 px
 * (small maps are enlarged by an integer factor, nearest neighbour), 2 px apart; a grid is about square and
 * continues on further pages when its tile area would pass {@link GridOptions#maxPageSide()}.
 */
public final class FeatureGrid {
    private static final int TILE_MIN = 32;
    private static final int GAP = 2;

    private FeatureGrid() {
    }

    /** The pages of the grid, in channel order. */
    public static List<Picture> render(FeatureMap map, MapLabel label, GridOptions options) {
        List<Integer> channels = options.channels().isEmpty() ? allChannels(map.channels()) : options.channels();
        for (int c : channels) {
            if (c < 0 || c >= map.channels()) {
                throw new IllegalArgumentException("channel must be in [0, " + (map.channels() - 1) + "], got " + c);
            }
        }
        Colorizer colorizer = options.colorizer();
        boolean perTile = options.scope() == AutoScope.TILE && colorizer.transform().needsRange();
        List<Plane> planes = new ArrayList<>(channels.size());
        double[] range = {Double.NaN, Double.NaN};
        for (int c : channels) {
            Plane p = map.channel(c);
            planes.add(p);
            range = Ranges.union(range, p.range());
        }

        int scale = Layout.upscale(map.height(), map.width(), TILE_MIN);
        int tileW = map.width() * scale;
        int tileH = map.height() * scale;
        int n = channels.size();
        int maxCols = Math.max(1, (options.maxPageSide() + GAP) / (tileW + GAP));
        int maxRows = Math.max(1, (options.maxPageSide() + GAP) / (tileH + GAP));
        int cols = Math.min(maxCols, (int) Math.ceil(Math.sqrt(n)));
        int perPage = cols * maxRows;
        int pages = (n + perPage - 1) / perPage;
        boolean contiguous = isContiguous(channels);

        List<Picture> out = new ArrayList<>(pages);
        for (int page = 0; page < pages; page++) {
            int from = page * perPage;
            int to = Math.min(n, from + perPage);
            out.add(page(map, label, options, channels, planes, from, to, cols, tileW, tileH, contiguous, perTile,
                    range, page, pages));
        }
        return out;
    }

    private static Picture page(FeatureMap map, MapLabel label, GridOptions options, List<Integer> channels,
                                List<Plane> planes, int from, int to, int cols, int tileW, int tileH,
                                boolean contiguous, boolean perTile, double[] range, int page, int pages) {
        Colorizer colorizer = options.colorizer();
        int count = to - from;
        int rows = (count + cols - 1) / cols;
        int usedCols = Math.min(cols, count);
        int small = Canvas.lineHeight(Canvas.SMALL);

        // headers: row starts and column offsets for a contiguous run, else a caption under every tile
        int rowLabelW = contiguous ? Canvas.textWidth(Integer.toString(channels.get(to - 1)), Canvas.SMALL) + 6 : 0;
        int colEvery = 1;
        if (contiguous) {
            int need = Canvas.textWidth("+" + (usedCols - 1), Canvas.SMALL) + 4;
            for (int e : new int[] {1, 2, 4, 5, 10, 20}) {
                colEvery = e;
                if ((tileW + GAP) * e >= need) {
                    break;
                }
            }
        }
        int headerH = contiguous ? small + 2 : 0;
        int captionH = contiguous ? 0 : small;
        int pitchX = tileW + GAP;
        int pitchY = tileH + GAP + captionH;
        int gridW = usedCols * pitchX - GAP;
        int gridH = rows * pitchY - GAP;

        String channelText = contiguous
                ? "channels " + channels.get(from) + "–" + channels.get(to - 1)
                : count + " of " + map.channels() + " channels";
        String first = Text.join(label.context(), map.shapeText(), channelText,
                pages > 1 ? "page " + (page + 1) + " of " + pages : "");
        String second = colorizer.label() + (colorizer.transform().needsRange()
                ? (perTile ? " · each tile scaled to its own range"
                        : " · one scale over all " + channels.size() + " channels")
                : "");
        List<String> subtitles = List.of(first, second);

        ColorBar bar = perTile
                ? ColorBar.relative(u -> colorizer.rgb(u, 0, 1), "tile min", "tile max", "value")
                : numericBar(colorizer, range, "value");
        int barGap = 16;
        int width = 2 * Canvas.MARGIN + Math.max(rowLabelW + gridW + barGap + bar.width(),
                Canvas.titleBlockWidth(label.module(), subtitles));
        int height = 2 * Canvas.MARGIN + Canvas.titleBlockHeight(subtitles) + headerH
                + Math.max(gridH, 120);
        try (Canvas c = new Canvas(width, height)) {
            int top = c.titleBlock(Canvas.MARGIN, Canvas.MARGIN, label.module(), subtitles) + headerH;
            int left = Canvas.MARGIN + rowLabelW;
            if (contiguous) {
                for (int col = 0; col < usedCols; col += colEvery) {
                    c.textCentered(left + col * pitchX + tileW / 2, top - headerH, "+" + col, Canvas.SMALL,
                            Canvas.MUTED);
                }
            }
            for (int i = 0; i < count; i++) {
                int row = i / cols;
                int col = i % cols;
                int x = left + col * pitchX;
                int y = top + row * pitchY;
                Plane p = planes.get(from + i);
                double[] r = perTile ? p.range() : range;
                c.nearest(colorizer.image(p, r[0], r[1]), x, y, tileW, tileH);
                if (contiguous && col == 0) {
                    c.textRight(left - 6, y + tileH / 2, Integer.toString(channels.get(from + i)), Canvas.SMALL,
                            Canvas.MUTED);
                }
                if (!contiguous) {
                    c.textCentered(x + tileW / 2, y + tileH + 1, Integer.toString(channels.get(from + i)),
                            Canvas.SMALL, Canvas.MUTED);
                }
            }
            int barH = Math.max(120, Math.min(gridH, 400));
            bar.draw(c, left + gridW + barGap, top, barH);

            Map<String, Object> fields = new LinkedHashMap<>(label.fields());
            fields.put("shape", List.of(map.channels(), map.height(), map.width()));
            if (contiguous) {
                fields.put("channelRange", List.of(channels.get(from), channels.get(to - 1)));
            } else {
                fields.put("channels", channels.subList(from, to));
            }
            fields.put("page", page + 1);
            fields.put("pages", pages);
            fields.put("layout", layout(left, top, tileW, tileH, pitchX, pitchY, cols));
            fields.putAll(colorFields(colorizer, perTile ? AutoScope.TILE : AutoScope.SHARED, range));
            return new Picture(c.image(), "feature-grid", label.module() + " · " + first, fields);
        }
    }

    /**
     * Where the tiles are, for tools that map a click to a channel (and for tests): tile i of the page has its
     * top-left at origin + (i mod columns, i div columns) · pitch.
     */
    public static Map<String, Object> layout(int x, int y, int tileW, int tileH, int pitchX, int pitchY, int columns) {
        Map<String, Object> l = new LinkedHashMap<>();
        l.put("origin", List.of(x, y));
        l.put("tile", List.of(tileW, tileH));
        l.put("pitch", List.of(pitchX, pitchY));
        l.put("columns", columns);
        return l;
    }

    /** A colour bar in feature values over the colorizer's bar range for data in {@code range}. */
    static ColorBar numericBar(Colorizer colorizer, double[] range, String caption) {
        double lo = Double.isNaN(range[0]) ? 0 : range[0];
        double hi = Double.isNaN(range[1]) ? 1 : range[1];
        double[] b = colorizer.barRange(lo, hi);
        return ColorBar.of(b[0], b[1], v -> colorizer.rgb(v, lo, hi), caption);
    }

    /** The manifest fields every colorized picture carries. */
    public static Map<String, Object> colorFields(Colorizer colorizer, AutoScope scope, double[] range) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("colorize", colorizer.method().label());
        f.put("transform", colorizer.transform().label());
        if (!colorizer.expressions().isEmpty()) {
            f.put("expressions", colorizer.expressions());
        }
        if (colorizer.transform().needsRange()) {
            f.put("autoScope", scope.name().toLowerCase(java.util.Locale.ROOT));
        }
        if (!Double.isNaN(range[0])) {
            f.put("range", List.of(range[0], range[1]));
        }
        return f;
    }

    private static List<Integer> allChannels(int n) {
        List<Integer> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            all.add(i);
        }
        return all;
    }

    private static boolean isContiguous(List<Integer> channels) {
        for (int i = 1; i < channels.size(); i++) {
            if (channels.get(i) != channels.get(i - 1) + 1) {
                return false;
            }
        }
        return true;
    }
}
