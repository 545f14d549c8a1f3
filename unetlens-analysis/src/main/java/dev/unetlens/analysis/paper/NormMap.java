package dev.unetlens.analysis.paper;

/**
 * The paper's norm map: the L2 norm over channels of every token of a feature map ({@code repr.norm(dim=0)}), summed
 * in float64.
 *
 * @param norms  [H·W], row-major
 * @param height H
 * @param width  W
 */
public record NormMap(double[] norms, int height, int width) {
    public NormMap {
        if (norms.length != height * width) {
            throw new IllegalArgumentException("a " + height + "×" + width + " norm map needs " + height * width + " values");
        }
    }

    /** The norms of the map that starts at {@code offset} of {@code x}, stored [C, H, W]. */
    public static NormMap of(float[] x, int offset, int channels, int height, int width) {
        int p = height * width;
        double[] n = new double[p];
        for (int c = 0; c < channels; c++) {
            int base = offset + c * p;
            for (int i = 0; i < p; i++) {
                double v = x[base + i];
                n[i] += v * v;
            }
        }
        for (int i = 0; i < p; i++) {
            n[i] = Math.sqrt(n[i]);
        }
        return new NormMap(n, height, width);
    }

    public double at(int row, int col) {
        return norms[row * width + col];
    }

    /** The mean norm of the whole map. */
    public double mean() {
        double s = 0;
        for (double v : norms) {
            s += v;
        }
        return s / norms.length;
    }
}
