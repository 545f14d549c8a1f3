package dev.unetlens.analysis;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/** Panel images for the analyses' pictures: inputs brought to the display size of the maps beside them. */
public final class Panels {
    private Panels() {
    }

    /** The image scaled (up or down, aspect kept, bilinear) so its longer side is {@code size} pixels. */
    public static BufferedImage fit(BufferedImage img, int size) {
        double s = (double) size / Math.max(img.getWidth(), img.getHeight());
        if (s < 1) {
            return dev.unetlens.viz.Overlay.fit(img, size);        // halving first: no aliasing
        }
        int w = Math.max(1, (int) Math.round(img.getWidth() * s));
        int h = Math.max(1, (int) Math.round(img.getHeight() * s));
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(img, 0, 0, w, h, null);
        g.dispose();
        return out;
    }

    /** A 1-pixel grey frame drawn inside the image's edge (so a white map stays visible on the white page). */
    public static BufferedImage framed(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(0x99, 0x99, 0x99));
        g.drawRect(0, 0, img.getWidth() - 1, img.getHeight() - 1);
        g.dispose();
        return img;
    }
}
