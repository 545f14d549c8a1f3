package dev.unetlens.io;

import dev.unetlens.UnetlensException;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * An 8-bit RGB image, rows top to bottom, pixels left to right, 3 bytes (R, G, B) each — the layout of
 * PIL's {@code np.array(image)} in (H, W, 3) order.
 *
 * @param width  W
 * @param height H
 * @param rgb    H·W·3 bytes
 */
public record RgbImage(int width, int height, byte[] rgb) {
    public RgbImage {
        if (width <= 0 || height <= 0 || rgb.length != width * height * 3) {
            throw new IllegalArgumentException("RGB image " + width + "×" + height + " needs " + width * height * 3
                    + " bytes, got " + rgb.length);
        }
    }

    /** Value 0–255 of channel c at (row, col). */
    public int get(int row, int col, int c) {
        return rgb[(row * width + col) * 3 + c] & 0xff;
    }

    /** Reads a PNG, JPEG, BMP or GIF; alpha is dropped and grey is expanded to RGB, as PIL's convert("RGB"). */
    public static RgbImage read(Path file) {
        BufferedImage img;
        try {
            if (!Files.isRegularFile(file)) {
                throw new UnetlensException(file + ": no such image file");
            }
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new UnetlensException(file + ": cannot read image (" + e.getMessage() + ")", e);
        }
        if (img == null) {
            throw new UnetlensException(file + ": not a readable image (PNG, JPEG, BMP or GIF)");
        }
        return of(img);
    }

    /** Copies the RGB values of a BufferedImage (alpha dropped). */
    public static RgbImage of(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        byte[] out = new byte[w * h * 3];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int p = row[x];
                int i = (y * w + x) * 3;
                out[i] = (byte) (p >> 16);
                out[i + 1] = (byte) (p >> 8);
                out[i + 2] = (byte) p;
            }
        }
        return new RgbImage(w, h, out);
    }

    public BufferedImage toBufferedImage() {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int i = (y * width + x) * 3;
                row[x] = (rgb[i] & 0xff) << 16 | (rgb[i + 1] & 0xff) << 8 | (rgb[i + 2] & 0xff);
            }
            img.setRGB(0, y, width, 1, row, 0, width);
        }
        return img;
    }

    /** Writes a PNG with optional tEXt chunks (e.g. {@code parameters}, the A1111 generation-info key). */
    public void writePng(OutputStream out, Map<String, String> text) throws IOException {
        writePng(toBufferedImage(), out, text);
    }

    /** Writes any BufferedImage as PNG with text chunks ({@link Png#write}). */
    public static void writePng(BufferedImage img, OutputStream out, Map<String, String> text) throws IOException {
        Png.write(img, out, text);
    }

    /** Reads the text chunks of a PNG (keyword → text). */
    public static Map<String, String> readPngText(Path file) {
        return Png.readText(file);
    }
}
