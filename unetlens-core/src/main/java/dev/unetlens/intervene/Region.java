package dev.unetlens.intervene;

import dev.unetlens.UnetlensException;
import dev.unetlens.io.RgbImage;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Where on a feature map an edit applies, independent of the map's resolution, so one region works at every block:
 * position (i, j) of an H×W map — row i, column j, origin top left — is the square whose centre is
 * ((j + ½)/W, (i + ½)/H) in fractions of the map.
 */
public sealed interface Region {

    /** H·W flags, row-major: whether position (i, j) of an H×W map is selected. */
    boolean[] select(int h, int w);

    /** The region as the {@code --edit} grammar writes it. */
    String describe();

    /**
     * A box in fractions of the map, 0 ≤ x0 &lt; x1 ≤ 1, 0 ≤ y0 &lt; y1 ≤ 1 (x across, y down): a position is selected
     * when its centre lies in [x0, x1) × [y0, y1). At coarse maps a small box may select no position at all.
     */
    record Box(double x0, double y0, double x1, double y1) implements Region {
        public Box {
            if (!(0 <= x0 && x0 < x1 && x1 <= 1 && 0 <= y0 && y0 < y1 && y1 <= 1)) {
                throw new UnetlensException("box=" + num(x0) + "," + num(y0) + "," + num(x1) + "," + num(y1)
                        + " must be X0,Y0,X1,Y1 fractions of the map with 0 ≤ X0 < X1 ≤ 1 and 0 ≤ Y0 < Y1 ≤ 1");
            }
        }

        @Override
        public boolean[] select(int h, int w) {
            boolean[] out = new boolean[h * w];
            for (int i = 0; i < h; i++) {
                double y = (i + 0.5) / h;
                for (int j = 0; j < w; j++) {
                    double x = (j + 0.5) / w;
                    out[i * w + j] = x >= x0 && x < x1 && y >= y0 && y < y1;
                }
            }
            return out;
        }

        @Override
        public String describe() {
            return "box=" + num(x0) + "," + num(y0) + "," + num(x1) + "," + num(y1);
        }
    }

    /**
     * A mask image: white (luma ≥ 128 of 255, Rec. 601 weights) is selected. Resized to each map by nearest
     * neighbour: position (i, j) takes the mask pixel under its centre.
     *
     * @param image  the mask
     * @param source where it was read from (for the manifest)
     */
    record Mask(RgbImage image, String source) implements Region {
        /** Reads a mask image (PNG, JPEG, BMP or GIF). */
        public static Mask read(Path file) {
            return new Mask(RgbImage.read(file), file.toString());
        }

        @Override
        public boolean[] select(int h, int w) {
            boolean[] out = new boolean[h * w];
            for (int i = 0; i < h; i++) {
                int mi = (int) Math.floor((i + 0.5) * image.height() / h);
                for (int j = 0; j < w; j++) {
                    int mj = (int) Math.floor((j + 0.5) * image.width() / w);
                    double luma = 0.299 * image.get(mi, mj, 0) + 0.587 * image.get(mi, mj, 1) + 0.114 * image.get(mi, mj, 2);
                    out[i * w + j] = luma >= 128;
                }
            }
            return out;
        }

        @Override
        public String describe() {
            return "mask=" + source;
        }
    }

    private static String num(double v) {
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : Double.toString(v);
    }
}
