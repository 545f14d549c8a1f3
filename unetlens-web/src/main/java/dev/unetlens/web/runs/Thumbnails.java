package dev.unetlens.web.runs;

import dev.unetlens.io.IoErrors;
import dev.unetlens.io.RgbImage;
import dev.unetlens.web.ApiError;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Small copies of a run's pictures for the Runs page, at most {@value #SIDE} px a side (smooth, area-averaged),
 * cached by file, size and time. A file that is not a readable PNG is a 422 naming it.
 */
final class Thumbnails {
    static final int SIDE = 160;
    private static final int MAX_CACHED = 512;
    private static final long MAX_INPUT_BYTES = 64L << 20;
    private final Map<String, byte[]> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, byte[]> e) {
            return size() > MAX_CACHED;
        }
    };

    byte[] of(Path png) {
        String key;
        try {
            key = png + "|" + Files.size(png) + "|" + Files.getLastModifiedTime(png).toMillis();
            if (Files.size(png) > MAX_INPUT_BYTES) {
                throw ApiError.unreadable(png.getFileName() + " is larger than " + MAX_INPUT_BYTES + " bytes");
            }
        } catch (IOException e) {
            throw ApiError.unreadable("cannot read " + png.getFileName() + ": " + IoErrors.reason(e));
        }
        synchronized (cache) {
            byte[] hit = cache.get(key);
            if (hit != null) {
                return hit;
            }
        }
        byte[] made = make(png);
        synchronized (cache) {
            cache.put(key, made);
        }
        return made;
    }

    private static byte[] make(Path png) {
        BufferedImage img;
        try {
            img = ImageIO.read(png.toFile());
        } catch (IOException | RuntimeException e) {
            img = null;
        }
        if (img == null) {
            throw ApiError.unreadable(png.getFileName() + " is not a readable PNG");
        }
        double f = Math.min(1.0, (double) SIDE / Math.max(img.getWidth(), img.getHeight()));
        int w = Math.max(1, (int) Math.round(img.getWidth() * f));
        int h = Math.max(1, (int) Math.round(img.getHeight() * f));
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(img.getScaledInstance(w, h, java.awt.Image.SCALE_AREA_AVERAGING), 0, 0, null);
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            RgbImage.writePng(out, bytes, Map.of());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
