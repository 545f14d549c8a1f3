package dev.unetlens.golden;

import dev.unetlens.io.RgbImage;

/** Deterministic test pictures (so tests need no particular fixture image). */
public final class TestImages {
    private TestImages() {
    }

    /** A smooth colour gradient with a bright disc: enough structure for features to vary over positions. */
    public static RgbImage gradient(int width, int height) {
        byte[] px = new byte[width * height * 3];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                double dx = x - width * 0.6;
                double dy = y - height * 0.4;
                boolean disc = dx * dx + dy * dy < width * height / 16.0;
                int i = (y * width + x) * 3;
                px[i] = (byte) (disc ? 240 : 255 * x / width);
                px[i + 1] = (byte) (disc ? 220 : 255 * y / height);
                px[i + 2] = (byte) (disc ? 60 : 128);
            }
        }
        return new RgbImage(width, height, px);
    }
}
