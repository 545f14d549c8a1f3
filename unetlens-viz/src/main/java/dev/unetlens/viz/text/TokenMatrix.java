package dev.unetlens.viz.text;

import dev.unetlens.viz.attention.Tokens;
import dev.unetlens.viz.render.Canvas;
import dev.unetlens.viz.render.ColorBar;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.function.DoubleToIntFunction;

/**
 * A matrix of values as coloured cells with the tokens' texts along the top (rotated) and row labels on the left,
 * a title block and a colour bar: the layout of {@link TokenNorms} and {@link TokenSimilarity}.
 */
final class TokenMatrix {
    private static final int BAR_GAP = 16;

    private TokenMatrix() {
    }

    /**
     * @param columns   column labels (token texts, drawn rotated; special tokens in the accent colour)
     * @param rows      row labels
     * @param values    [rows][columns]
     * @param cell      cell side in pixels
     * @param colorOf   value → 0xRRGGBB
     * @param bar       the colour bar
     */
    static BufferedImage draw(String title, List<String> subtitles, List<String> columns, List<String> rawColumns,
                              List<String> rows, double[][] values, int cell, DoubleToIntFunction colorOf, ColorBar bar) {
        int labelLen = columns.stream().mapToInt(s -> Canvas.textWidth(s, Canvas.LABEL)).max().orElse(0);
        int headerH = labelLen + 8;
        int rowLabelW = rows.stream().mapToInt(s -> Canvas.textWidth(s, Canvas.LABEL)).max().orElse(0) + 8;
        int gridW = columns.size() * cell;
        int gridH = rows.size() * cell;
        int barH = Math.max(120, Math.min(gridH, 400));
        int width = 2 * Canvas.MARGIN + Math.max(rowLabelW + gridW + BAR_GAP + bar.width(),
                Canvas.titleBlockWidth(title, subtitles));
        int height = 2 * Canvas.MARGIN + Canvas.titleBlockHeight(subtitles) + headerH + Math.max(gridH, barH);
        try (Canvas c = new Canvas(width, height)) {
            int top = c.titleBlock(Canvas.MARGIN, Canvas.MARGIN, title, subtitles) + headerH;
            int left = Canvas.MARGIN + rowLabelW;
            for (int j = 0; j < columns.size(); j++) {
                var color = Tokens.isSpecial(rawColumns.get(j)) ? Canvas.ACCENT : Canvas.INK;
                c.textUp(left + j * cell + cell / 2 + Canvas.lineHeight(Canvas.LABEL) / 2 - 3, top - 6, columns.get(j),
                        Canvas.LABEL, color);
            }
            var g = c.graphics();
            for (int i = 0; i < rows.size(); i++) {
                int y = top + i * cell;
                c.textRight(left - 8, y + cell / 2, rows.get(i), Canvas.LABEL, Canvas.INK);
                for (int j = 0; j < columns.size(); j++) {
                    g.setColor(new java.awt.Color(colorOf.applyAsInt(values[i][j])));
                    g.fillRect(left + j * cell, y, cell, cell);
                }
            }
            bar.draw(c, left + gridW + BAR_GAP, top, barH);
            return c.image();
        }
    }
}
