package dev.unetlens.viz.render;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.function.DoubleToIntFunction;

/**
 * The drawing conventions every picture shares: white background, dark text in Java's logical "SansSerif" font
 * (present on any JDK; DejaVu Sans on Debian), a title block, 16 px margins, and vertical colour bars with ticks.
 * Maps are drawn with nearest-neighbour scaling so every value stays a crisp block.
 */
public final class Canvas implements AutoCloseable {
    public static final int MARGIN = 16;
    public static final int GAP = 8;
    public static final Color INK = new Color(0x22, 0x22, 0x22);
    public static final Color MUTED = new Color(0x66, 0x66, 0x66);
    public static final Color ACCENT = new Color(0xB0, 0x3A, 0x2E);
    public static final Color PANEL = new Color(0xF2, 0xF2, 0xF2);
    public static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 16);
    public static final Font SUBTITLE = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    public static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    public static final Font SMALL = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
    /** Width of a colour bar's colour strip. */
    public static final int BAR_WIDTH = 16;

    private static final BufferedImage SCRATCH = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);

    private final BufferedImage image;
    private final Graphics2D g;

    /** A new white canvas. */
    public Canvas(int width, int height) {
        this(new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB));
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
    }

    private Canvas(BufferedImage image) {
        this.image = image;
        g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
    }

    /** Draws onto an existing image (markers over a map). */
    public static Canvas over(BufferedImage image) {
        return new Canvas(image);
    }

    public BufferedImage image() {
        return image;
    }

    public Graphics2D graphics() {
        return g;
    }

    /** Pixel width of a text in a font (measured without a canvas, for layouts). */
    public static int textWidth(String text, Font font) {
        Graphics2D s = SCRATCH.createGraphics();
        s.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
        try {
            return (int) Math.ceil(s.getFontMetrics(font).getStringBounds(text, s).getWidth());
        } finally {
            s.dispose();
        }
    }

    /** Line height of a font. */
    public static int lineHeight(Font font) {
        Graphics2D s = SCRATCH.createGraphics();
        try {
            FontMetrics m = s.getFontMetrics(font);
            return m.getAscent() + m.getDescent();
        } finally {
            s.dispose();
        }
    }

    /** Height of a title block (title plus subtitle lines) as {@link #titleBlock} draws it. */
    public static int titleBlockHeight(List<String> subtitles) {
        return lineHeight(TITLE) + subtitles.size() * (lineHeight(SUBTITLE) + 2) + GAP;
    }

    /** Width a title block needs. */
    public static int titleBlockWidth(String title, List<String> subtitles) {
        int w = textWidth(title, TITLE);
        for (String s : subtitles) {
            w = Math.max(w, textWidth(s, SUBTITLE));
        }
        return w;
    }

    /** Draws a bold title and muted subtitle lines with their top-left at (x, y); returns the y below them. */
    public int titleBlock(int x, int y, String title, List<String> subtitles) {
        y = text(x, y, title, TITLE, INK);
        for (String s : subtitles) {
            y = text(x, y + 2, s, SUBTITLE, MUTED);
        }
        return y + GAP;
    }

    /** Draws text with its top-left at (x, y); returns the y below it. */
    public int text(int x, int y, String text, Font font, Color color) {
        g.setFont(font);
        g.setColor(color);
        FontMetrics m = g.getFontMetrics();
        g.drawString(text, x, y + m.getAscent());
        return y + m.getAscent() + m.getDescent();
    }

    /** Draws text centred on x with its top at y. */
    public void textCentered(int cx, int y, String text, Font font, Color color) {
        text(cx - textWidth(text, font) / 2, y, text, font, color);
    }

    /** Draws text right-aligned at x, vertically centred on cy. */
    public void textRight(int x, int cy, String text, Font font, Color color) {
        g.setFont(font);
        FontMetrics m = g.getFontMetrics();
        text(x - textWidth(text, font), cy - (m.getAscent() + m.getDescent()) / 2, text, font, color);
    }

    /** Draws text rotated 90° counter-clockwise (read bottom to top), its baseline end at (x, bottomY). */
    public void textUp(int x, int bottomY, String text, Font font, Color color) {
        AffineTransform saved = g.getTransform();
        g.translate(x, bottomY);
        g.rotate(-Math.PI / 2);
        g.setFont(font);
        g.setColor(color);
        g.drawString(text, 0, 0);
        g.setTransform(saved);
    }

    /** Draws a small image scaled to w×h with nearest-neighbour sampling (blocks, no blur). */
    public void nearest(BufferedImage img, int x, int y, int w, int h) {
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.drawImage(img, x, y, w, h, null);
    }

    /** Draws an image at its own size. */
    public void image(BufferedImage img, int x, int y) {
        g.drawImage(img, x, y, null);
    }

    /** A thin frame around a rectangle. */
    public void frame(int x, int y, int w, int h, Color color) {
        g.setColor(color);
        g.setStroke(new BasicStroke(1f));
        g.drawRect(x - 1, y - 1, w + 1, h + 1);
    }

    /**
     * A crosshair ring marking a position: a white ring over a black one, legible on any colour.
     * (cx, cy) is the centre in pixels; r the ring radius.
     */
    public void marker(int cx, int cy, int r) {
        g.setStroke(new BasicStroke(3f));
        g.setColor(Color.BLACK);
        g.drawOval(cx - r, cy - r, 2 * r, 2 * r);
        g.drawLine(cx - 2 * r, cy, cx - r, cy);
        g.drawLine(cx + r, cy, cx + 2 * r, cy);
        g.drawLine(cx, cy - 2 * r, cx, cy - r);
        g.drawLine(cx, cy + r, cx, cy + 2 * r);
        g.setStroke(new BasicStroke(1.5f));
        g.setColor(Color.WHITE);
        g.drawOval(cx - r, cy - r, 2 * r, 2 * r);
        g.drawLine(cx - 2 * r, cy, cx - r, cy);
        g.drawLine(cx + r, cy, cx + 2 * r, cy);
        g.drawLine(cx, cy - 2 * r, cx, cy - r);
        g.drawLine(cx, cy + r, cx, cy + 2 * r);
        g.setStroke(new BasicStroke(1f));
    }

    /** Width a colour bar with these tick labels takes, strip and labels together. */
    public static int colorBarWidth(List<Ticks.Tick> ticks, String caption) {
        int w = 0;
        for (Ticks.Tick t : ticks) {
            w = Math.max(w, textWidth(t.label(), SMALL));
        }
        int captionW = caption == null ? 0 : lineHeight(SMALL) + 4;
        return BAR_WIDTH + 4 + w + 4 + captionW;
    }

    /**
     * A vertical colour bar at (x, y), {@code h} high: {@code colorOf} gives the colour of a value in
     * [lo, hi] (top = hi); ticks are labelled to the right, and the caption runs up the right side.
     */
    public void colorBar(int x, int y, int h, double lo, double hi, DoubleToIntFunction colorOf,
                         List<Ticks.Tick> ticks, String caption) {
        for (int row = 0; row < h; row++) {
            double v = h == 1 ? hi : hi - (hi - lo) * row / (h - 1.0);
            g.setColor(new Color(colorOf.applyAsInt(v)));
            g.fillRect(x, y + row, BAR_WIDTH, 1);
        }
        g.setColor(MUTED);
        g.drawRect(x, y, BAR_WIDTH - 1, h - 1);
        int labelsLeft = x + BAR_WIDTH + 4;
        for (Ticks.Tick t : ticks) {
            int ty = hi > lo ? (int) Math.round(y + (hi - t.value()) / (hi - lo) * (h - 1)) : y;
            g.setColor(INK);
            g.drawLine(x + BAR_WIDTH - 4, ty, x + BAR_WIDTH + 2, ty);
            textRight(labelsLeft + textWidth(t.label(), SMALL), ty, t.label(), SMALL, INK);   // left-aligned
        }
        if (caption != null) {
            int w = 0;
            for (Ticks.Tick t : ticks) {
                w = Math.max(w, textWidth(t.label(), SMALL));
            }
            int cx = x + BAR_WIDTH + 4 + w + 4 + lineHeight(SMALL) - 3;
            int cw = textWidth(caption, SMALL);
            textUp(cx, y + h / 2 + cw / 2, caption, SMALL, MUTED);
        }
    }

    @Override
    public void close() {
        g.dispose();
    }
}
