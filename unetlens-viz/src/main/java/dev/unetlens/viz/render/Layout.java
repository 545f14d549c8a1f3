package dev.unetlens.viz.render;

import java.awt.Font;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * The layout most pictures share: a title block, then rows of panels (each an image with a caption under it,
 * an optional label at the row's left), and a colour bar on the right.
 * <pre>
 *   ┌──────────────────────────────────────────────┐
 *   │ Title                                        │
 *   │ subtitle lines                               │
 *   │ row label  [panel] [panel] [panel]   ▮ ticks │
 *   │            caption caption caption   ▮       │
 *   └──────────────────────────────────────────────┘
 * </pre>
 */
public final class Layout {
    private static final int PANEL_GAP = 12;
    private static final int CAPTION_GAP = 4;

    private Layout() {
    }

    /** An image with caption lines under it (wrapped to its width at '.', ' ' and '·'). */
    public record Panel(BufferedImage image, List<String> caption) {
        public Panel {
            caption = List.copyOf(caption);
        }

        public Panel(BufferedImage image, String... caption) {
            this(image, List.of(caption));
        }
    }

    /** A row of panels with an optional label drawn at its left (null for none). */
    public record Row(String label, List<Panel> panels) {
        public Row {
            panels = List.copyOf(panels);
        }
    }

    /** Draws title, subtitles, the rows, and the colour bar (null for none). */
    public static BufferedImage panels(String title, List<String> subtitles, List<Row> rows, ColorBar bar) {
        int labelW = 0;
        for (Row r : rows) {
            if (r.label() != null) {
                labelW = Math.max(labelW, Canvas.textWidth(r.label(), Canvas.LABEL) + PANEL_GAP);
            }
        }
        int captionLine = Canvas.lineHeight(Canvas.SMALL);
        List<List<List<String>>> captions = new ArrayList<>();
        int rowsW = 0;
        int rowsH = 0;
        List<Integer> rowHeights = new ArrayList<>();
        for (Row r : rows) {
            int w = 0;
            int imgH = 0;
            int lines = 0;
            List<List<String>> rowCaptions = new ArrayList<>();
            for (Panel p : r.panels()) {
                int pw = Math.max(p.image().getWidth(), 40);
                List<String> wrapped = new ArrayList<>();
                for (String line : p.caption()) {
                    wrapped.addAll(wrap(line, Canvas.SMALL, pw));
                }
                rowCaptions.add(wrapped);
                lines = Math.max(lines, wrapped.size());
                w += pw + PANEL_GAP;
                imgH = Math.max(imgH, p.image().getHeight());
            }
            captions.add(rowCaptions);
            int h = imgH + (lines > 0 ? CAPTION_GAP + lines * captionLine : 0);
            rowHeights.add(h);
            rowsW = Math.max(rowsW, w - PANEL_GAP);
            rowsH += h + PANEL_GAP;
        }
        rowsH -= PANEL_GAP;
        int firstImgH = rows.isEmpty() ? 0 : rows.getFirst().panels().stream()
                .mapToInt(p -> p.image().getHeight()).max().orElse(0);
        int barH = bar == null ? 0 : Math.max(120, Math.min(firstImgH, 400));
        int barW = bar == null ? 0 : PANEL_GAP + 4 + bar.width();
        int bodyW = labelW + rowsW + barW;
        int width = 2 * Canvas.MARGIN + Math.max(bodyW, Canvas.titleBlockWidth(title, subtitles));
        int height = 2 * Canvas.MARGIN + Canvas.titleBlockHeight(subtitles) + Math.max(rowsH, barH);
        try (Canvas c = new Canvas(width, height)) {
            int y = c.titleBlock(Canvas.MARGIN, Canvas.MARGIN, title, subtitles);
            int top = y;
            for (int i = 0; i < rows.size(); i++) {
                Row r = rows.get(i);
                int imgH = r.panels().stream().mapToInt(p -> p.image().getHeight()).max().orElse(0);
                if (r.label() != null) {
                    c.textRight(Canvas.MARGIN + labelW - PANEL_GAP, y + imgH / 2, r.label(), Canvas.LABEL,
                            Canvas.INK);
                }
                int x = Canvas.MARGIN + labelW;
                for (int j = 0; j < r.panels().size(); j++) {
                    Panel p = r.panels().get(j);
                    int pw = Math.max(p.image().getWidth(), 40);
                    c.image(p.image(), x + (pw - p.image().getWidth()) / 2, y);
                    int cy = y + imgH + CAPTION_GAP;
                    for (String line : captions.get(i).get(j)) {
                        c.textCentered(x + pw / 2, cy, line, Canvas.SMALL, Canvas.INK);
                        cy += captionLine;
                    }
                    x += pw + PANEL_GAP;
                }
                y += rowHeights.get(i) + PANEL_GAP;
            }
            if (bar != null) {
                bar.draw(c, Canvas.MARGIN + labelW + rowsW + PANEL_GAP + 4, top, barH);
            }
            return c.image();
        }
    }

    /** Splits text into lines no wider than {@code width}, breaking after '.', ' ', ',' or '·' where it can. */
    public static List<String> wrap(String text, Font font, int width) {
        List<String> out = new ArrayList<>();
        String rest = text;
        while (Canvas.textWidth(rest, font) > width && rest.length() > 1) {
            int cut = -1;
            for (int i = 1; i < rest.length(); i++) {
                char ch = rest.charAt(i - 1);
                if ((ch == '.' || ch == ' ' || ch == ',' || ch == '·')
                        && Canvas.textWidth(rest.substring(0, i).stripTrailing(), font) <= width) {
                    cut = i;
                }
            }
            if (cut < 0) {   // no break point fits: cut at the widest prefix that does
                cut = 1;
                while (cut < rest.length() && Canvas.textWidth(rest.substring(0, cut + 1), font) <= width) {
                    cut++;
                }
            }
            out.add(rest.substring(0, cut).stripTrailing());
            rest = rest.substring(cut).stripLeading();
        }
        if (!rest.isEmpty()) {
            out.add(rest);
        }
        return out;
    }

    /** The integer factor that brings a map's shorter side to at least {@code min} pixels (1 if it already is). */
    public static int upscale(int height, int width, int min) {
        return Math.max(1, (int) Math.ceil((double) min / Math.min(height, width)));
    }

    /** The integer factor that brings a map's longer side close to {@code target} pixels (at least 1). */
    public static int fit(int height, int width, int target) {
        return Math.max(1, (int) Math.round((double) target / Math.max(height, width)));
    }

    /** An image scaled by nearest neighbour to w×h. */
    public static BufferedImage scaled(BufferedImage img, int w, int h) {
        if (img.getWidth() == w && img.getHeight() == h) {
            return img;
        }
        try (Canvas c = new Canvas(w, h)) {
            c.nearest(img, 0, 0, w, h);
            return c.image();
        }
    }
}
