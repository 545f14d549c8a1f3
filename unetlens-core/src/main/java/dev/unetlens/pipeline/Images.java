package dev.unetlens.pipeline;

import dev.unetlens.io.RgbImage;

import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/** Image size adjustments before encoding. */
public final class Images {
    private Images() {
    }

    /**
     * The image at {@code width × height}: unchanged when it already has that size, else resampled with bicubic
     * interpolation (diffusers' VaeImageProcessor uses PIL's Lanczos; sizes that match need no resampling, so
     * results equal diffusers' then).
     */
    public static RgbImage fit(RgbImage img, int width, int height) {
        if (img.width() == width && img.height() == height) {
            return img;
        }
        return resize(img, width, height);
    }

    /** Bicubic resize. */
    public static RgbImage resize(RgbImage img, int width, int height) {
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        var g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(img.toBufferedImage(), 0, 0, width, height, null);
        } finally {
            g.dispose();
        }
        return RgbImage.of(out);
    }

    /** The central {@code width × height} part of the image (both at most the image's). */
    public static RgbImage centerCrop(RgbImage img, int width, int height) {
        if (width > img.width() || height > img.height() || width <= 0 || height <= 0) {
            throw new IllegalArgumentException("crop " + width + "×" + height + " of a " + img.width() + "×" + img.height() + " image");
        }
        int x0 = (img.width() - width) / 2;
        int y0 = (img.height() - height) / 2;
        byte[] out = new byte[width * height * 3];
        for (int y = 0; y < height; y++) {
            System.arraycopy(img.rgb(), ((y0 + y) * img.width() + x0) * 3, out, y * width * 3, width * 3);
        }
        return new RgbImage(width, height, out);
    }

    /** The largest size ≤ the image's whose sides are multiples of {@code multiple} (diffusers' default size rule). */
    public static int[] floorToMultiple(RgbImage img, int multiple) {
        return new int[] {img.width() - img.width() % multiple, img.height() - img.height() % multiple};
    }
}
