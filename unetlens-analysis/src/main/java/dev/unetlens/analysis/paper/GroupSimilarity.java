package dev.unetlens.analysis.paper;

import dev.unetlens.analysis.paper.PaperMaps.ImageMaps;

import java.util.List;
import java.util.function.Function;

/**
 * The token-group similarity experiment at one module: the 3×3 matrices (corner, border, other) of the plain map,
 * of the map with its outer ring dropped, and of the map of the image cropped by one token on every side, each the
 * mean over images of the per-image matrices.
 *
 * @param plain   the whole map
 * @param ring    the similarity map without its outer ring (paper: "repr cropped")
 * @param cropped the image cropped by one token and extracted again (paper: "cropped"), or null when not computed
 * @param images  images averaged
 */
public record GroupSimilarity(double[][] plain, double[][] ring, double[][] cropped, int images) {
    /** Variants in the order of the {@code .npy} arrays: plain, ring dropped, image cropped. */
    public static final List<String> VARIANTS = List.of("plain", "ring_dropped", "image_cropped");

    public static GroupSimilarity of(List<ImageMaps> maps, List<ImageMaps> croppedMaps) {
        List<ImageMaps> used = maps.stream().filter(m -> m.plain() != null).toList();
        return new GroupSimilarity(mean(used, ImageMaps::plain), mean(used, ImageMaps::ring),
                croppedMaps == null ? null : mean(croppedMaps.stream().filter(m -> m.plain() != null).toList(), ImageMaps::plain),
                used.size());
    }

    /** The mean over images of each image's matrix. */
    static double[][] mean(List<ImageMaps> maps, Function<ImageMaps, TokenGroups.Sums> variant) {
        double[][] m = new double[3][3];
        for (ImageMaps im : maps) {
            double[][] x = variant.apply(im).means();
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    m[i][j] += x[i][j] / maps.size();
                }
            }
        }
        if (maps.isEmpty()) {
            for (double[] r : m) {
                java.util.Arrays.fill(r, Double.NaN);
            }
        }
        return m;
    }

    /** The variants as one [3 or 2][3][3] array, row-major. */
    public double[] flat() {
        double[][][] v = cropped == null ? new double[][][] {plain, ring} : new double[][][] {plain, ring, cropped};
        double[] out = new double[v.length * 9];
        for (int k = 0; k < v.length; k++) {
            for (int i = 0; i < 3; i++) {
                System.arraycopy(v[k][i], 0, out, k * 9 + i * 3, 3);
            }
        }
        return out;
    }
}
