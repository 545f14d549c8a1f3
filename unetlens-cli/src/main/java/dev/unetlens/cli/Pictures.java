package dev.unetlens.cli;

import dev.unetlens.io.RgbImage;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The pictures {@code diff} and {@code sweep} write: signed Red/Blue maps (0 black, positive red, negative blue,
 * scaled by the largest magnitude), channel-norm maps (grey) and labelled contact sheets. Deliberately small: the
 * {@code unetlens-viz} module (colorizers, value transforms, grids) replaces these calls when it lands; each method
 * here maps to one of its pictures ({@code signed} → Red/Blue colorization, {@code norm} → norm map,
 * {@code channelGrid} → feature grid, {@code contactSheet} → contact sheet).
 */
final class Pictures {
    /** Thumbnails of contact sheets are at least this wide (nearest upscaling for tiny images). */
    private static final int MIN_THUMB = 96;
    /** Tiles of channel grids are at least this wide. */
    private static final int MIN_TILE = 24;
    private static final int GLYPH_SCALE = 2;

    private Pictures() {
    }

    /** A signed map of h×w values: positive red, negative blue, |v| / scale as intensity (scale ≤ 0: all black). */
    static RgbImage signed(float[] v, int offset, int h, int w, double scale) {
        byte[] rgb = new byte[h * w * 3];
        for (int k = 0; k < h * w; k++) {
            double x = scale > 0 ? Math.min(1, Math.abs(v[offset + k]) / scale) : 0;
            int c = (int) Math.round(255 * x);
            rgb[k * 3 + (v[offset + k] >= 0 ? 0 : 2)] = (byte) c;
        }
        return new RgbImage(w, h, rgb);
    }

    /** The L2 norm over channels of a [C, H, W] tensor at each position, grey from 0 (black) to the largest (white). */
    static RgbImage norm(float[] chw, int c, int h, int w) {
        double[] n = new double[h * w];
        double max = 0;
        for (int k = 0; k < h * w; k++) {
            double s = 0;
            for (int ch = 0; ch < c; ch++) {
                double x = chw[ch * h * w + k];
                s += x * x;
            }
            n[k] = Math.sqrt(s);
            max = Math.max(max, n[k]);
        }
        byte[] rgb = new byte[h * w * 3];
        for (int k = 0; k < h * w; k++) {
            byte g = (byte) (max > 0 ? Math.round(255 * n[k] / max) : 0);
            rgb[k * 3] = g;
            rgb[k * 3 + 1] = g;
            rgb[k * 3 + 2] = g;
        }
        return new RgbImage(w, h, rgb);
    }

    /**
     * Every channel of a [C, H, W] tensor as a signed tile (one scale for all: the largest magnitude), in a grid of
     * ⌈√C⌉ columns with 1-pixel grey separators; tiles are upscaled (nearest) to at least {@value #MIN_TILE} px.
     */
    static RgbImage channelGrid(float[] chw, int c, int h, int w) {
        double max = 0;
        for (int k = 0; k < c * h * w; k++) {
            max = Math.max(max, Math.abs(chw[k]));
        }
        int cols = (int) Math.ceil(Math.sqrt(c));
        int rows = (c + cols - 1) / cols;
        int f = Math.max(1, (MIN_TILE + Math.max(h, w) - 1) / Math.max(h, w));
        int th = h * f;
        int tw = w * f;
        Canvas canvas = new Canvas(cols * (tw + 1) + 1, rows * (th + 1) + 1, 64);
        for (int ch = 0; ch < c; ch++) {
            RgbImage tile = scale(signed(chw, ch * h * w, h, w, max), f);
            canvas.draw(tile, 1 + (ch % cols) * (tw + 1), 1 + (ch / cols) * (th + 1));
        }
        return canvas.image();
    }

    /** An image upscaled by an integer factor (nearest). */
    static RgbImage scale(RgbImage img, int f) {
        if (f == 1) {
            return img;
        }
        int w = img.width() * f;
        int h = img.height() * f;
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                System.arraycopy(img.rgb(), ((y / f) * img.width() + x / f) * 3, rgb, (y * w + x) * 3, 3);
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /** One cell of a contact sheet: an image and its label. */
    record Cell(String label, RgbImage image) {
    }

    /**
     * A labelled grid of images, in order, {@code cols} per row (≤ 0: about square); each image upscaled (nearest)
     * to at least {@value #MIN_THUMB} px wide, its label in white capitals below it.
     */
    static RgbImage contactSheet(List<Cell> cells, int cols) {
        int n = cells.size();
        int c = cols > 0 ? cols : (int) Math.ceil(Math.sqrt(n));
        int r = (n + c - 1) / c;
        int cw = 0;
        int ch = 0;
        for (Cell cell : cells) {
            RgbImage t = thumb(cell.image());
            cw = Math.max(cw, t.width());
            ch = Math.max(ch, t.height());
        }
        int labelH = 7 * GLYPH_SCALE + 6;
        int pad = 4;
        Canvas canvas = new Canvas(c * (cw + pad) + pad, r * (ch + labelH + pad) + pad, 24);
        for (int i = 0; i < n; i++) {
            int x = pad + (i % c) * (cw + pad);
            int y = pad + (i / c) * (ch + labelH + pad);
            RgbImage t = thumb(cells.get(i).image());
            canvas.draw(t, x, y);
            canvas.text(cells.get(i).label(), x, y + ch + 3, cw);
        }
        return canvas.image();
    }

    private static RgbImage thumb(RgbImage img) {
        int f = Math.max(1, (MIN_THUMB + img.width() - 1) / img.width());
        return scale(img, f);
    }

    /** A plain RGB drawing surface. */
    private static final class Canvas {
        private final int w;
        private final int h;
        private final byte[] rgb;

        Canvas(int w, int h, int grey) {
            this.w = w;
            this.h = h;
            this.rgb = new byte[w * h * 3];
            java.util.Arrays.fill(rgb, (byte) grey);
        }

        void draw(RgbImage img, int x0, int y0) {
            for (int y = 0; y < img.height() && y0 + y < h; y++) {
                int n = Math.min(img.width(), w - x0);
                System.arraycopy(img.rgb(), y * img.width() * 3, rgb, ((y0 + y) * w + x0) * 3, n * 3);
            }
        }

        /** Draws {@code s} in capitals from (x0, y0), cut to {@code maxWidth} pixels. */
        void text(String s, int x0, int y0, int maxWidth) {
            int advance = 6 * GLYPH_SCALE;
            int fit = Math.max(1, (maxWidth + GLYPH_SCALE) / advance);
            String t = s.toUpperCase(Locale.ROOT);
            if (t.length() > fit) {
                t = t.substring(0, Math.max(0, fit - 1)) + ".";
            }
            for (int i = 0; i < t.length(); i++) {
                int[] g = Font.glyph(t.charAt(i));
                for (int row = 0; row < 7; row++) {
                    for (int col = 0; col < 5; col++) {
                        if ((g[row] >> (4 - col) & 1) == 0) {
                            continue;
                        }
                        for (int dy = 0; dy < GLYPH_SCALE; dy++) {
                            for (int dx = 0; dx < GLYPH_SCALE; dx++) {
                                int x = x0 + i * advance + col * GLYPH_SCALE + dx;
                                int y = y0 + row * GLYPH_SCALE + dy;
                                if (x < w && y < h) {
                                    int k = (y * w + x) * 3;
                                    rgb[k] = rgb[k + 1] = rgb[k + 2] = (byte) 255;
                                }
                            }
                        }
                    }
                }
            }
        }

        RgbImage image() {
            return new RgbImage(w, h, rgb);
        }
    }

    /** A 5×7 bitmap font of capitals, digits and the punctuation block and module names use. */
    static final class Font {
        private static final Map<Character, int[]> GLYPHS = Map.ofEntries(
                g('A', "01110 10001 10001 11111 10001 10001 10001"), g('B', "11110 10001 10001 11110 10001 10001 11110"),
                g('C', "01110 10001 10000 10000 10000 10001 01110"), g('D', "11100 10010 10001 10001 10001 10010 11100"),
                g('E', "11111 10000 10000 11110 10000 10000 11111"), g('F', "11111 10000 10000 11110 10000 10000 10000"),
                g('G', "01110 10001 10000 10111 10001 10001 01111"), g('H', "10001 10001 10001 11111 10001 10001 10001"),
                g('I', "01110 00100 00100 00100 00100 00100 01110"), g('J', "00111 00010 00010 00010 00010 10010 01100"),
                g('K', "10001 10010 10100 11000 10100 10010 10001"), g('L', "10000 10000 10000 10000 10000 10000 11111"),
                g('M', "10001 11011 10101 10101 10001 10001 10001"), g('N', "10001 10001 11001 10101 10011 10001 10001"),
                g('O', "01110 10001 10001 10001 10001 10001 01110"), g('P', "11110 10001 10001 11110 10000 10000 10000"),
                g('Q', "01110 10001 10001 10001 10101 10010 01101"), g('R', "11110 10001 10001 11110 10100 10010 10001"),
                g('S', "01111 10000 10000 01110 00001 00001 11110"), g('T', "11111 00100 00100 00100 00100 00100 00100"),
                g('U', "10001 10001 10001 10001 10001 10001 01110"), g('V', "10001 10001 10001 10001 10001 01010 00100"),
                g('W', "10001 10001 10001 10101 10101 10101 01010"), g('X', "10001 10001 01010 00100 01010 10001 10001"),
                g('Y', "10001 10001 10001 01010 00100 00100 00100"), g('Z', "11111 00001 00010 00100 01000 10000 11111"),
                g('0', "01110 10001 10011 10101 11001 10001 01110"), g('1', "00100 01100 00100 00100 00100 00100 01110"),
                g('2', "01110 10001 00001 00010 00100 01000 11111"), g('3', "11111 00010 00100 00010 00001 10001 01110"),
                g('4', "00010 00110 01010 10010 11111 00010 00010"), g('5', "11111 10000 11110 00001 00001 10001 01110"),
                g('6', "00110 01000 10000 11110 10001 10001 01110"), g('7', "11111 00001 00010 00100 01000 01000 01000"),
                g('8', "01110 10001 10001 01110 10001 10001 01110"), g('9', "01110 10001 10001 01111 00001 00010 01100"),
                g('-', "00000 00000 00000 11111 00000 00000 00000"), g('_', "00000 00000 00000 00000 00000 00000 11111"),
                g('.', "00000 00000 00000 00000 00000 01100 01100"), g(':', "00000 01100 01100 00000 01100 01100 00000"),
                g('=', "00000 00000 11111 00000 11111 00000 00000"), g('+', "00000 00100 00100 11111 00100 00100 00000"),
                g('(', "00010 00100 01000 01000 01000 00100 00010"), g(')', "01000 00100 00010 00010 00010 00100 01000"),
                g('/', "00000 00001 00010 00100 01000 10000 00000"), g(',', "00000 00000 00000 00000 01100 00100 01000"),
                g('*', "00000 00100 10101 01110 10101 00100 00000"), g('@', "01110 10001 10111 10101 10111 10000 01110"),
                g(' ', "00000 00000 00000 00000 00000 00000 00000"), g('?', "01110 10001 00001 00010 00100 00000 00100"));

        private Font() {
        }

        private static Map.Entry<Character, int[]> g(char c, String rows) {
            String[] r = rows.split(" ");
            int[] bits = new int[7];
            for (int i = 0; i < 7; i++) {
                bits[i] = Integer.parseInt(r[i], 2);
            }
            return Map.entry(c, bits);
        }

        /** The glyph of {@code c} ('?' for characters the font lacks). */
        static int[] glyph(char c) {
            return GLYPHS.getOrDefault(c, GLYPHS.get('?'));
        }
    }
}
