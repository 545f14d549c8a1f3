package dev.unetlens.viz.attention;

import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.Plane;
import dev.unetlens.viz.Ranges;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.grid.AutoScope;
import dev.unetlens.viz.grid.FeatureGrid;
import dev.unetlens.viz.render.Canvas;
import dev.unetlens.viz.render.ColorBar;
import dev.unetlens.viz.render.Layout;
import dev.unetlens.viz.render.Text;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dump U-Net's attention picture: a grid of tokens (columns, each labelled with its decoded text; start and end
 * tokens marked) by heads (rows) of one cross-attention module at one step, every tile the H×W map of
 * probs[row, head, :, token]. Tiles are at least 48 px; columns continue on further pages past
 * {@code maxPageSide}.
 */
public final class CrossAttentionGrid {
    private static final int TILE_MIN = 48;
    private static final int GAP = 2;

    private CrossAttentionGrid() {
    }

    /**
     * How to draw it.
     *
     * @param row         batch row (the conditional row: {@link AttentionProbs#firstConditionalRow()})
     * @param heads       heads to show, in order; empty for all
     * @param tokens      token indices to show, in order; empty for the prompt (start through the first end token)
     * @param colorizer   value → pixel; default magma · Auto [0,1]
     * @param scope       SHARED: one range over the picture, so tiles compare (default); TILE: Dump U-Net's per tile
     * @param maxPageSide most pixels the tile area may take across; more tokens go on further pages
     */
    public record Options(int row, List<Integer> heads, List<Integer> tokens, Colorizer colorizer, AutoScope scope,
                          int maxPageSide) {
        public Options {
            heads = List.copyOf(heads);
            tokens = List.copyOf(tokens);
        }

        /** The conditional row of {@code probs}, all heads, the prompt's tokens, magma, one shared range. */
        public static Options defaults(AttentionProbs probs) {
            return new Options(probs.firstConditionalRow(), List.of(), List.of(), Colorizer.magma(),
                    AutoScope.SHARED, 2048);
        }

        public Options withTokens(List<Integer> t) {
            return new Options(row, heads, t, colorizer, scope, maxPageSide);
        }

        public Options withHeads(List<Integer> h) {
            return new Options(row, h, tokens, colorizer, scope, maxPageSide);
        }

        public Options withColorizer(Colorizer c) {
            return new Options(row, heads, tokens, c, scope, maxPageSide);
        }

        public Options withScope(AutoScope s) {
            return new Options(row, heads, tokens, colorizer, s, maxPageSide);
        }
    }

    /** The pages (one unless the tokens are many and the maps large). */
    public static List<Picture> render(AttentionProbs probs, MapLabel label, List<String> tokenLabels,
                                       Options options) {
        List<Integer> heads = options.heads().isEmpty() ? range(probs.heads()) : options.heads();
        List<Integer> tokens = options.tokens().isEmpty() ? Tokens.promptIndices(tokenLabels) : options.tokens();
        for (int t : tokens) {
            if (t < 0 || t >= probs.keys() || t >= tokenLabels.size()) {
                throw new IllegalArgumentException("token index must be in [0, "
                        + (Math.min(probs.keys(), tokenLabels.size()) - 1) + "], got " + t);
            }
        }
        Colorizer colorizer = options.colorizer();
        boolean perTile = options.scope() == AutoScope.TILE && colorizer.transform().needsRange();
        Plane[][] maps = new Plane[heads.size()][tokens.size()];
        double[] range = {Double.NaN, Double.NaN};
        for (int i = 0; i < heads.size(); i++) {
            for (int j = 0; j < tokens.size(); j++) {
                maps[i][j] = probs.keyMap(options.row(), heads.get(i), tokens.get(j));
                range = Ranges.union(range, maps[i][j].range());
            }
        }
        int scale = Layout.upscale(probs.height(), probs.width(), TILE_MIN);
        int tileW = probs.width() * scale;
        int tileH = probs.height() * scale;
        int perPage = Math.max(1, (options.maxPageSide() + GAP) / (tileW + GAP));
        int pages = (tokens.size() + perPage - 1) / perPage;
        List<Picture> out = new ArrayList<>();
        for (int page = 0; page < pages; page++) {
            int from = page * perPage;
            int to = Math.min(tokens.size(), from + perPage);
            out.add(page(probs, label, tokenLabels, options, heads, tokens, maps, range, perTile, from, to, tileW,
                    tileH, page, pages));
        }
        return out;
    }

    private static Picture page(AttentionProbs probs, MapLabel label, List<String> tokenLabels, Options options,
                                List<Integer> heads, List<Integer> tokens, Plane[][] maps, double[] range,
                                boolean perTile, int from, int to, int tileW, int tileH, int page, int pages) {
        Colorizer colorizer = options.colorizer();
        int cols = to - from;
        int small = Canvas.lineHeight(Canvas.SMALL);
        int labelLen = 0;
        for (int j = from; j < to; j++) {
            labelLen = Math.max(labelLen, Canvas.textWidth(Tokens.display(tokenLabels.get(tokens.get(j))),
                    Canvas.LABEL));
        }
        int headerH = labelLen + 6 + small + 2;            // rotated token text, then its index
        int rowLabelW = Canvas.textWidth("head " + (probs.heads() - 1), Canvas.SMALL) + 8;
        int pitchX = tileW + GAP;
        int pitchY = tileH + GAP;
        int gridW = cols * pitchX - GAP;
        int gridH = heads.size() * pitchY - GAP;
        String first = Text.join(label.context(), heads.size() + " heads × " + (to - from) + " tokens",
                "maps " + probs.height() + "×" + probs.width(), "batch row " + options.row(),
                pages > 1 ? "page " + (page + 1) + " of " + pages : "");
        String second = colorizer.label() + (colorizer.transform().needsRange()
                ? (perTile ? " · each tile scaled to its own range" : " · one scale over the picture") : "");
        List<String> subtitles = List.of(first, second);
        ColorBar bar = perTile
                ? ColorBar.relative(u -> colorizer.rgb(u, 0, 1), "tile min", "tile max", "probability")
                : ColorBar.of(colorizer.barRange(range[0], range[1])[0], colorizer.barRange(range[0], range[1])[1],
                        v -> colorizer.rgb(v, range[0], range[1]), "probability");
        int barGap = 16;
        int width = 2 * Canvas.MARGIN + Math.max(rowLabelW + gridW + barGap + bar.width(),
                Canvas.titleBlockWidth(label.module(), subtitles));
        int height = 2 * Canvas.MARGIN + Canvas.titleBlockHeight(subtitles) + headerH + Math.max(gridH, 120);
        try (Canvas c = new Canvas(width, height)) {
            int top = c.titleBlock(Canvas.MARGIN, Canvas.MARGIN, label.module(), subtitles) + headerH;
            int left = Canvas.MARGIN + rowLabelW;
            for (int j = from; j < to; j++) {
                int x = left + (j - from) * pitchX;
                String raw = tokenLabels.get(tokens.get(j));
                String text = Tokens.display(raw);
                var color = Tokens.isSpecial(raw) ? Canvas.ACCENT : Canvas.INK;
                int baseline = top - small - 4;
                c.textUp(x + tileW / 2 + Canvas.lineHeight(Canvas.LABEL) / 2 - 3, baseline, text, Canvas.LABEL, color);
                c.textCentered(x + tileW / 2, top - small - 1, Integer.toString(tokens.get(j)), Canvas.SMALL,
                        Canvas.MUTED);
            }
            for (int i = 0; i < heads.size(); i++) {
                int y = top + i * pitchY;
                c.textRight(left - 8, y + tileH / 2, "head " + heads.get(i), Canvas.SMALL, Canvas.MUTED);
                for (int j = from; j < to; j++) {
                    Plane p = maps[i][j];
                    double[] r = perTile ? p.range() : range;
                    c.nearest(colorizer.image(p, r[0], r[1]), left + (j - from) * pitchX, y, tileW, tileH);
                }
            }
            bar.draw(c, left + gridW + barGap, top, Math.max(120, Math.min(gridH, 400)));

            Map<String, Object> fields = new LinkedHashMap<>(label.fields());
            fields.put("shape", List.of(probs.batch(), probs.heads(), probs.queries(), probs.keys()));
            fields.put("map", List.of(probs.height(), probs.width()));
            fields.put("row", options.row());
            fields.put("heads", heads);
            fields.put("tokens", tokens.subList(from, to));
            fields.put("tokenTexts", tokens.subList(from, to).stream().map(tokenLabels::get).toList());
            fields.put("page", page + 1);
            fields.put("pages", pages);
            fields.put("layout", FeatureGrid.layout(left, top, tileW, tileH, pitchX, pitchY, cols));
            fields.putAll(FeatureGrid.colorFields(colorizer, perTile ? AutoScope.TILE : AutoScope.SHARED, range));
            return new Picture(c.image(), "cross-attention-grid", label.module() + " · " + first, fields);
        }
    }

    static List<Integer> range(int n) {
        List<Integer> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(i);
        }
        return out;
    }
}
