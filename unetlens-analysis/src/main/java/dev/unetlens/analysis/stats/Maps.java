package dev.unetlens.analysis.stats;

/** Reductions of feature maps stored row-major as [rows, C, H·W] (rows: samples) in float64. */
public final class Maps {
    private Maps() {
    }

    /** mean |x| over positions, per row and channel: [rows · C] (row-major). */
    public static double[] meanAbsPerChannel(float[] values, int rows, int channels, int positions) {
        double[] out = new double[rows * channels];
        for (int rc = 0; rc < out.length; rc++) {
            double s = 0;
            int base = rc * positions;
            for (int p = 0; p < positions; p++) {
                s += Math.abs(values[base + p]);
            }
            out[rc] = s / positions;
        }
        return out;
    }

    /** The mean over channels of a [C, P] array: [P]. */
    public static double[] meanOverChannels(double[] values, int channels) {
        int p = values.length / channels;
        double[] out = new double[p];
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < p; i++) {
                out[i] += values[c * p + i];
            }
        }
        for (int i = 0; i < p; i++) {
            out[i] /= channels;
        }
        return out;
    }

    /** The mean of all values. */
    public static double mean(double[] values) {
        double s = 0;
        for (double v : values) {
            s += v;
        }
        return s / values.length;
    }

    /** Float64 values as float32. */
    public static float[] toFloats(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }

    /** Float32 values as float64. */
    public static double[] toDoubles(float[] values) {
        double[] d = new double[values.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = values[i];
        }
        return d;
    }
}
