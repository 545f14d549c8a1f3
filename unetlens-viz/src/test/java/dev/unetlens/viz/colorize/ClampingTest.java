package dev.unetlens.viz.colorize;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** A Linear clamp range far narrower than the values is noticed, with the range the values call for. */
class ClampingTest {
    @Test
    void linearRangesNarrowerThanTheValuesClampMostOfThem() {
        float[] v = new float[1000];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i % 2 == 0 ? 1 : -1) * (2 + i * 0.076f);              // |v| from 2 to about 78
        }
        Clamping c = Clamping.of(new ValueTransform.Linear(-3, 3), v);
        assertThat(c.fraction()).isCloseTo(0.987, within(0.001));
        assertThat(c.mostly()).isTrue();
        assertThat(c.suggested()).isEqualTo(78);                           // the 99th percentile of |v|, 77.3, rounded up
        assertThat(Clamping.format(c.suggested())).isEqualTo("78");

        Clamping fits = Clamping.of(new ValueTransform.Linear(-80, 80), v);
        assertThat(fits.fraction()).isZero();
        assertThat(fits.mostly()).isFalse();
        assertThat(Clamping.of(new ValueTransform.Auto01(), v).fraction()).isZero();
        assertThat(Clamping.of(new ValueTransform.Linear(-3, 3), new float[] {Float.NaN, 1}).fraction()).isZero();
    }

    @Test
    void boundsAreRoundedUpToTwoDigits() {
        assertThat(Clamping.roundUp(78.4)).isEqualTo(79);
        assertThat(Clamping.roundUp(0.0312)).isEqualTo(0.032);
        assertThat(Clamping.roundUp(3.0)).isEqualTo(3.0);
        assertThat(Clamping.format(0.032)).isEqualTo("0.032");
        assertThat(Clamping.format(1200)).isEqualTo("1200");
    }
}
