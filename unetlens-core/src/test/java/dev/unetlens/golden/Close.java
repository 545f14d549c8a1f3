package dev.unetlens.golden;

import dev.unetlens.io.NpyArray;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** numpy-style {@code allclose} assertions with messages that say where and by how much. */
public final class Close {
    private Close() {
    }

    /** |actual − expected| ≤ atol + rtol·|expected| element-wise, and the same shape. */
    public static void assertClose(String what, long[] actualShape, float[] actual, NpyArray expected,
                                   double atol, double rtol) {
        assertThat(actualShape).as(what + " shape").containsExactly(expected.shape());
        assertClose(what, actual, expected.toFloats(), atol, rtol);
    }

    public static void assertClose(String what, float[] actual, float[] expected, double atol, double rtol) {
        assertThat(actual.length).as(what + " element count").isEqualTo(expected.length);
        int worst = -1;
        double worstExcess = 0;
        double maxAbs = 0;
        int bad = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]);
            maxAbs = Math.max(maxAbs, Double.isNaN(d) ? Double.POSITIVE_INFINITY : d);
            double allowed = atol + rtol * Math.abs(expected[i]);
            if (!(d <= allowed)) {
                bad++;
                double excess = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d - allowed;
                if (worst < 0 || excess > worstExcess) {
                    worst = i;
                    worstExcess = excess;
                }
            }
        }
        if (bad > 0) {
            fail(String.format("%s: %d of %d elements differ beyond atol %.1e rtol %.1e; worst at %d: %s vs expected %s; max |diff| %.3e",
                    what, bad, actual.length, atol, rtol, worst, actual[worst], expected[worst], maxAbs));
        }
    }

    /**
     * Tolerance relative to the array's magnitude, as the golden README asks for schedulers and pipelines:
     * |actual − expected| ≤ rel · max|expected|.
     */
    public static void assertCloseToMagnitude(String what, long[] actualShape, float[] actual, NpyArray expected, double rel) {
        assertThat(actualShape).as(what + " shape").containsExactly(expected.shape());
        float[] e = expected.toFloats();
        double mag = 0;
        for (float v : e) {
            mag = Math.max(mag, Math.abs(v));
        }
        assertClose(what + " (tolerance " + rel + " × max|expected| " + mag + ")", actual, e, rel * mag, 0);
    }

    public static void assertExactly(String what, long[] actualShape, long[] actual, NpyArray expected) {
        assertThat(actualShape).as(what + " shape").containsExactly(expected.shape());
        long[] e = expected.toLongs();
        if (!Arrays.equals(actual, e)) {
            int i = Arrays.mismatch(actual, e);
            fail(what + ": differs first at " + i + ": " + actual[i] + " vs expected " + e[i]);
        }
    }
}
