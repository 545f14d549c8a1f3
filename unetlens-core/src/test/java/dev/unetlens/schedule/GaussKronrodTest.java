package dev.unetlens.schedule;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class GaussKronrodTest {

    @Test
    void the21PointRuleIsExactForPolynomialsUpToDegree31AndTheGaussPartUpTo19() {
        for (int k = 0; k <= 31; k++) {
            int deg = k;
            GaussKronrod.Estimate e = GaussKronrod.qk21(x -> Math.pow(x, deg), -1, 1);
            double exact = deg % 2 == 1 ? 0 : 2.0 / (deg + 1);
            assertThat(e.result()).as("∫x^%d", k).isCloseTo(exact, within(1e-15));
            double gauss = 0;
            for (int j = 0; j < 5; j++) {
                double x = GaussKronrod.XGK[2 * j + 1];
                gauss += GaussKronrod.WG[j] * (Math.pow(x, deg) + Math.pow(-x, deg));
            }
            if (k <= 19) {
                assertThat(gauss).as("10-point Gauss ∫x^%d", k).isCloseTo(exact, within(1e-15));
            }
        }
    }

    @Test
    void aCubicOnAReversedIntervalNeedsNoSubdivision() {
        GaussKronrod.Estimate e = GaussKronrod.qk21(x -> (x - 1) * (x - 2) * (x + 3), 5, 2);
        double exact = primitive(2) - primitive(5);
        assertThat(e.result()).isCloseTo(exact, within(1e-12));
        assertThat(GaussKronrod.integrate(x -> (x - 1) * (x - 2) * (x + 3), 5, 2, 1.49e-8, 1e-4)).isEqualTo(e.result());
    }

    /** ∫ (x−1)(x−2)(x+3) = ∫ x³ − 7x + 6 = x⁴/4 − 7x²/2 + 6x. */
    private static double primitive(double x) {
        return Math.pow(x, 4) / 4 - 3.5 * x * x + 6 * x;
    }

    @Test
    void anEndPointSingularityIsSubdividedUntilTheToleranceIsMet() {
        double r = GaussKronrod.integrate(Math::sqrt, 0, 1, 1e-12, 1e-10);
        assertThat(r).isCloseTo(2.0 / 3, within(1e-9));
    }
}
