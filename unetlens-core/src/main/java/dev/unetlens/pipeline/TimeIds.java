package dev.unetlens.pipeline;

/**
 * SDXL's micro-conditioning ({@code add_time_ids}): one row of six values per image,
 * {@code original_size (h, w) + crops_coords_top_left (top, left) + target_size (h, w)}.
 *
 * @param originalHeight original image height
 * @param originalWidth  original image width
 * @param cropTop        crop offset from the top
 * @param cropLeft       crop offset from the left
 * @param targetHeight   target height
 * @param targetWidth    target width
 */
public record TimeIds(double originalHeight, double originalWidth, double cropTop, double cropLeft,
                      double targetHeight, double targetWidth) {

    /** The pipeline defaults: original = target = the generated size, no crop. */
    public static TimeIds defaults(int height, int width) {
        return new TimeIds(height, width, 0, 0, height, width);
    }

    public float[] values() {
        return new float[] {(float) originalHeight, (float) originalWidth, (float) cropTop, (float) cropLeft,
            (float) targetHeight, (float) targetWidth};
    }
}
