package dev.unetlens.analysis.stats;

import java.util.Arrays;

/**
 * How unequal a module's channel magnitudes are: the largest, smallest and median channel mean, their ratios, and
 * the fewest channels whose magnitudes add up to half of the total (sorted from the largest down).
 *
 * @param max             largest channel mean
 * @param min             smallest channel mean
 * @param median          median (the mean of the middle two for an even count)
 * @param maxOverMin      max / min
 * @param maxOverMedian   max / median
 * @param channelsForHalf the smallest k such that the k largest channels hold ≥ half of the sum
 * @param channels        C
 */
public record MagnitudeSummary(double max, double min, double median, double maxOverMin, double maxOverMedian,
                               int channelsForHalf, int channels) {

    public static MagnitudeSummary of(double[] channelMeans) {
        double[] s = channelMeans.clone();
        Arrays.sort(s);
        int n = s.length;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        double total = 0;
        for (double v : s) {
            total += v;
        }
        double acc = 0;
        int k = 0;
        for (int i = n - 1; i >= 0; i--) {
            acc += s[i];
            k++;
            if (acc >= total / 2) {
                break;
            }
        }
        return new MagnitudeSummary(s[n - 1], s[0], median, s[n - 1] / s[0], s[n - 1] / median, k, n);
    }

    /** The channel means sorted from the largest down (the notebook's curve). */
    public static double[] sortedDescending(double[] channelMeans) {
        double[] s = channelMeans.clone();
        Arrays.sort(s);
        for (int i = 0, j = s.length - 1; i < j; i++, j--) {
            double t = s[i];
            s[i] = s[j];
            s[j] = t;
        }
        return s;
    }
}
