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

    /** The largest size ≤ the image's whose sides are multiples of {@code multiple} (diffusers' default size rule). */
    public static int[] floorToMultiple(RgbImage img, int multiple) {
        return new int[] {img.width() - img.width() % multiple, img.height() - img.height() % multiple};
    }
}
