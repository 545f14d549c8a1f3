package dev.unetlens.analysis.images;

import dev.unetlens.UnetlensException;
import dev.unetlens.io.RgbImage;
import dev.unetlens.pipeline.Images;

/**
 * What is done to each image before it is encoded.
 *
 * <ul>
 *   <li>{@code resize}, {@code crop} ({@code extract}'s options): the shorter side scaled to {@code resize} pixels
 *       (bicubic), then a centred square; otherwise the sides are cut to multiples of 8 (centred).</li>
 *   <li>{@code paper}: the dataset rule of Loos &amp; Linhardt's {@code create_imagenet_subset.py}: images whose
 *       shorter side s is under {@link Paper#minSide} are skipped; the others are cropped to the centred box
 *       (w/2 − s/2, h/2 − s/2, w/2 + s/2, h/2 + s/2) with integer halves (so 2⌊s/2⌋ wide), then resized to
 *       {@link Paper#size}² with PIL's bicubic ({@link PilResize}).</li>
 * </ul>
 *
 * @param resize shorter side in pixels (a multiple of 8), or null
 * @param crop   centre-crop to a square after the resize
 * @param paper  the paper's preprocessing instead of the two above, or null
 */
public record Preprocess(Integer resize, boolean crop, Paper paper) {
    public static final Preprocess NONE = new Preprocess(null, false, null);

    /**
     * @param minSide images with a shorter side below this are skipped (the paper: 350)
     * @param size    the side of the square result (the paper: 512), a multiple of 8
     */
    public record Paper(int minSide, int size) {
        public Paper {
            if (minSide < 1) {
                throw new UnetlensException("--paper-prep must be ≥ 1 pixel, got " + minSide);
            }
            if (size < 8 || size % 8 != 0) {
                throw new UnetlensException("--prep-size must be a positive multiple of 8, got " + size);
            }
        }
    }

    public Preprocess {
        if (resize != null && (resize < 8 || resize % 8 != 0)) {
            throw new UnetlensException("--resize must be a positive multiple of 8, got " + resize);
        }
        if (paper != null && (resize != null || crop)) {
            throw new UnetlensException("--paper-prep does its own crop and resize; leave out --resize and --crop");
        }
    }

    /** Why an image of this size is left out, or null when it is used. */
    public String skipReason(int width, int height) {
        if (paper != null && Math.min(width, height) < paper.minSide()) {
            return "shorter side " + Math.min(width, height) + " px is under --paper-prep " + paper.minSide();
        }
        return null;
    }

    /** The prepared image (sides multiples of 8). */
    public RgbImage apply(RgbImage img) {
        if (paper != null) {
            int s = Math.min(img.width(), img.height());
            int x0 = img.width() / 2 - s / 2;
            int y0 = img.height() / 2 - s / 2;
            RgbImage square = crop(img, x0, y0, 2 * (s / 2), 2 * (s / 2));
            return PilResize.bicubic(square, paper.size(), paper.size());
        }
        if (resize != null) {
            double f = (double) resize / Math.min(img.width(), img.height());
            img = Images.resize(img, (int) Math.round(img.width() * f), (int) Math.round(img.height() * f));
        }
        if (crop) {
            int side = Math.min(img.width(), img.height());
            side -= side % 8;
            return Images.centerCrop(img, side, side);
        }
        if (img.width() % 8 != 0 || img.height() % 8 != 0) {
            if (img.width() < 8 || img.height() < 8) {
                throw new UnetlensException("image is " + img.width() + "×" + img.height() + "; sides must be at least 8 px");
            }
            return Images.centerCrop(img, img.width() - img.width() % 8, img.height() - img.height() % 8);
        }
        return img;
    }

    private static RgbImage crop(RgbImage img, int x0, int y0, int w, int h) {
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            System.arraycopy(img.rgb(), ((y0 + y) * img.width() + x0) * 3, out, y * w * 3, w * 3);
        }
        return new RgbImage(w, h, out);
    }
}
