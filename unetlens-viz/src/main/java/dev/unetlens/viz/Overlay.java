package dev.unetlens.viz;

import dev.unetlens.io.RgbImage;
import dev.unetlens.viz.colorize.Colormap;

import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/**
 * A heat map drawn over an image the way DAAM's {@code plot_overlay_heat_map} does: the map in a colour map, and
 * the image over it with opacity 1 − h, so each pixel is h·cmap(h) + (1 − h)·image, h in [0, 1].
 */
public final class Overlay {
    private Overlay() {
    }

    /**
     * The composite of an image and a map of the image's size whose values are already in [0, 1] (values outside
     * are clamped; NaN counts as 0).
     */
    public static BufferedImage composite(RgbImage image, Plane heat, Colormap map) {
        if (heat.height() != image.height() || heat.width() != image.width()) {
            throw new IllegalArgumentException("heat map " + heat.height() + "×" + heat.width()
                    + " does not match the image " + image.height() + "×" + image.width());
        }
        int w = image.width();
        int h = image.height();
        float[] v = heat.values();
        int[] out = new int[w * h];
        for (int p = 0; p < out.length; p++) {
            double a = v[p] > 0 ? Math.min(1.0, v[p]) : 0.0;
            int c = map.rgb(a);
            int y = p / w;
            int x = p % w;
            int r = mix(a, (c >> 16) & 0xff, image.get(y, x, 0));
            int g = mix(a, (c >> 8) & 0xff, image.get(y, x, 1));
            int b = mix(a, c & 0xff, image.get(y, x, 2));
            out[p] = r << 16 | g << 8 | b;
        }
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, w, h, out, 0, w);
        return img;
    }

    /** The image in grey: luma Y′ = 0.299 R + 0.587 G + 0.114 B (Rec. 601) in all three channels. */
    public static RgbImage greyscale(RgbImage image) {
        byte[] in = image.rgb();
        byte[] out = new byte[in.length];
        for (int i = 0; i < in.length; i += 3) {
            int y = (int) Math.round(0.299 * (in[i] & 0xff) + 0.587 * (in[i + 1] & 0xff) + 0.114 * (in[i + 2] & 0xff));
            out[i] = (byte) y;
            out[i + 1] = (byte) y;
            out[i + 2] = (byte) y;
        }
        return new RgbImage(image.width(), image.height(), out);
    }

    private static int mix(double a, int heat, int image) {
        return (int) Math.round(a * heat + (1 - a) * image);
    }

    /** An image resized smoothly to fit a square of {@code size} (never enlarged; aspect kept). */
    public static BufferedImage fit(BufferedImage img, int size) {
        double s = Math.min(1.0, (double) size / Math.max(img.getWidth(), img.getHeight()));
        int w = Math.max(1, (int) Math.round(img.getWidth() * s));
        int h = Math.max(1, (int) Math.round(img.getHeight() * s));
        if (w == img.getWidth() && h == img.getHeight()) {
            return img;
        }
        BufferedImage out = img;
        while (out.getWidth() / 2 >= w && out.getHeight() / 2 >= h) {   // halve first, so no detail aliases
            out = resize(out, out.getWidth() / 2, out.getHeight() / 2);
        }
        return resize(out, w, h);
    }

    private static BufferedImage resize(BufferedImage img, int w, int h) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        var g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.drawImage(img, 0, 0, w, h, null);
        g.dispose();
        return out;
    }
}
