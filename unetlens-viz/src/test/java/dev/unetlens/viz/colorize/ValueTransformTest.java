package dev.unetlens.viz.colorize;

import dev.unetlens.viz.colorize.ColorMethod.Domain;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Every transform on small arrays, expected values worked by hand from Dump U-Net's formulas (see
 * {@link ValueTransform}'s table).
 */
class ValueTransformTest {
    private static final double EPS = 1e-12;

    private static double[] apply(ValueTransform t, Domain d, double lo, double hi, double... v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = t.apply(v[i], d, lo, hi);
        }
        return out;
    }

    @Test
    void auto01IsMinMaxToZeroOne() {
        // values −2, 0, 2, 6: lo = −2, hi = 6, (v+2)/8
        for (Domain d : Domain.values()) {
            assertThat(apply(new ValueTransform.Auto01(), d, -2, 6, -2, 0, 2, 6))
                    .containsExactly(new double[] {0, 0.25, 0.5, 1}, within(EPS));
        }
    }

    @Test
    void autoSignedIsMinMaxToMinusOneOne() {
        // 2(v+2)/8 − 1
        assertThat(apply(new ValueTransform.AutoSigned(), Domain.SIGNED, -2, 6, -2, 0, 2, 6))
                .containsExactly(new double[] {-1, -0.5, 0, 1}, within(EPS));
    }

    @Test
    void autoOfAConstantMapIsZero() {
        assertThat(new ValueTransform.Auto01().apply(3, Domain.UNIT, 3, 3)).isZero();
        assertThat(new ValueTransform.AutoSigned().apply(3, Domain.SIGNED, 3, 3)).isZero();
        assertThat(new ValueTransform.Auto01().apply(Double.NaN, Domain.UNIT, 3, 3)).isNaN();
    }

    @Test
    void linearWhiteBlackWithMixedSignsFoldsAroundZero() {
        // min −1, max 3: signs differ → X = 0, Y = 3; (|clamp(v)| − 0)/3
        // −2 → clamp −1 → 1/3; 0 → 0; 1.5 → 0.5; 5 → clamp 3 → 1
        assertThat(apply(new ValueTransform.Linear(-1, 3), Domain.MAGNITUDE, 0, 0, -2, 0, 1.5, 5))
                .containsExactly(new double[] {1.0 / 3, 0, 0.5, 1}, within(EPS));
    }

    @Test
    void linearWhiteBlackWithOneSignStartsAtTheNearerEnd() {
        // min 1, max 5: X = 1, Y = 5; (|clamp(v)| − 1)/4: 0 → clamp 1 → 0; 3 → 0.5; 6 → 1
        assertThat(apply(new ValueTransform.Linear(1, 5), Domain.MAGNITUDE, 0, 0, 0, 3, 6))
                .containsExactly(new double[] {0, 0.5, 1}, within(EPS));
        // min −4, max −2: X = 2, Y = 4; −3 → (3 − 2)/2 = 0.5; −4 → 1; −2 → 0
        assertThat(apply(new ValueTransform.Linear(-4, -2), Domain.MAGNITUDE, 0, 0, -3, -4, -2))
                .containsExactly(new double[] {0.5, 1, 0}, within(EPS));
    }

    @Test
    void linearSignedMapsTheClampRangeToMinusOneOne() {
        // ((clamp(v) + 1)/4 − 0.5)·2: −1 → −1; 1 → 0; 2 → 0.5; 3 → 1; 9 → 1; −7 → −1
        assertThat(apply(new ValueTransform.Linear(-1, 3), Domain.SIGNED, 0, 0, -1, 1, 2, 3, 9, -7))
                .containsExactly(new double[] {-1, 0, 0.5, 1, 1, -1}, within(EPS));
    }

    @Test
    void linearUnitMapsTheClampRangeToZeroOne() {
        assertThat(apply(new ValueTransform.Linear(-1, 3), Domain.UNIT, 0, 0, -1, 2, 3))
                .containsExactly(new double[] {0, 0.75, 1}, within(EPS));
    }

    @Test
    void sigmoidInEachDomain() {
        double ln3 = Math.log(3);   // σ(ln 3) = 3/4, σ(−ln 3) = 1/4, σ(0) = 1/2
        ValueTransform s = new ValueTransform.Sigmoid(1, 0);
        assertThat(apply(s, Domain.MAGNITUDE, 0, 0, 0, ln3, -ln3))      // |σ − ½|·2
                .containsExactly(new double[] {0, 0.5, 0.5}, within(EPS));
        assertThat(apply(s, Domain.SIGNED, 0, 0, 0, ln3, -ln3))         // (σ − ½)·2
                .containsExactly(new double[] {0, 0.5, -0.5}, within(EPS));
        assertThat(apply(s, Domain.UNIT, 0, 0, 0, ln3, -ln3))           // σ
                .containsExactly(new double[] {0.5, 0.75, 0.25}, within(EPS));
    }

    @Test
    void sigmoidGainAndOffsetActOnVPlusOffset() {
        // gain 2, offset 1: σ(2(v + 1)); v = ln3/2 − 1 → σ(ln 3) = 3/4 → signed 0.5
        double v = Math.log(3) / 2 - 1;
        assertThat(new ValueTransform.Sigmoid(2, 1).apply(v, Domain.SIGNED, 0, 0)).isCloseTo(0.5, within(EPS));
        // v = −1 → σ(0) → 0 whatever the gain
        assertThat(new ValueTransform.Sigmoid(7, 1).apply(-1, Domain.SIGNED, 0, 0)).isCloseTo(0, within(EPS));
    }

    @Test
    void outputRanges() {
        assertThat(new ValueTransform.Linear(0, 1).outputRange(Domain.MAGNITUDE)).containsExactly(0, 1);
        assertThat(new ValueTransform.Linear(0, 1).outputRange(Domain.SIGNED)).containsExactly(-1, 1);
        assertThat(new ValueTransform.Sigmoid(1, 0).outputRange(Domain.UNIT)).containsExactly(0, 1);
        assertThat(new ValueTransform.AutoSigned().outputRange(Domain.UNIT)).containsExactly(-1, 1);
    }

    @Test
    void labelsRoundTrip() {
        for (ValueTransform t : new ValueTransform[] {new ValueTransform.Auto01(), new ValueTransform.AutoSigned(),
                new ValueTransform.Linear(-1.5, 2), new ValueTransform.Sigmoid(1, 0)}) {
            assertThat(ValueTransform.parse(t.label())).isEqualTo(t);
        }
        assertThat(ValueTransform.parse("auto11")).isEqualTo(new ValueTransform.AutoSigned());
        assertThat(ValueTransform.parse("sigmoid(2,-0.5)")).isEqualTo(new ValueTransform.Sigmoid(2, -0.5));
    }

    @Test
    void refusesBadParameters() {
        assertThatThrownBy(() -> new ValueTransform.Linear(1, 1)).hasMessageContaining("min must be below clamp max");
        assertThatThrownBy(() -> new ValueTransform.Sigmoid(Double.NaN, 0)).hasMessageContaining("finite");
        assertThatThrownBy(() -> ValueTransform.parse("log")).hasMessageContaining("auto01, auto11");
    }
}
