package dev.unetlens.schedule;

import dev.unetlens.UnetlensException;
import dev.unetlens.schedule.NoiseSchedule.BetaSchedule;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class NoiseScheduleTest {

    @Test
    void linspaceHitsBothEndsAndIsMonotone() {
        float[] b = new NoiseSchedule(1000, 0.0001, 0.02, BetaSchedule.LINEAR, null, false).betas();
        assertThat(b[0]).isEqualTo(0.0001f);
        assertThat(b[999]).isEqualTo(0.02f);
        for (int i = 1; i < b.length; i++) {
            assertThat(b[i]).isGreaterThan(b[i - 1]);
        }
        assertThat(NoiseSchedule.torchLinspace(0f, 1f, 37)[18]).isCloseTo(0.5f, within(1e-7f));
    }

    @Test
    void zeroTerminalSnrRescalingEndsAtAlphaBarZero() {
        NoiseSchedule plain = new NoiseSchedule(1000, 0.00085, 0.012, BetaSchedule.SCALED_LINEAR, null, false);
        NoiseSchedule zsnr = new NoiseSchedule(1000, 0.00085, 0.012, BetaSchedule.SCALED_LINEAR, null, true);
        float[] a = zsnr.alphasCumprod();
        assertThat(a[999]).isZero();
        assertThat(a[0]).isCloseTo(plain.alphasCumprod()[0], within(1e-6f));
        assertThat(zsnr.alphasCumprodForSigmas()[999]).isEqualTo(0x1p-24f);
        assertThat(plain.alphasCumprodForSigmas()).containsExactly(plain.alphasCumprod());
    }

    @Test
    void cosineScheduleIsCappedAndTrainedBetasWin() {
        float[] b = new NoiseSchedule(1000, 0.0001, 0.02, BetaSchedule.SQUAREDCOS_CAP_V2, null, false).betas();
        assertThat(b[999]).isEqualTo(0.999f);
        double a0 = Math.pow(Math.cos(0.008 / 1.008 * Math.PI / 2), 2);
        double a1 = Math.pow(Math.cos((0.001 + 0.008) / 1.008 * Math.PI / 2), 2);
        assertThat(b[0]).isEqualTo((float) (1 - a1 / a0));
        float[] trained = new NoiseSchedule(3, 0.1, 0.2, BetaSchedule.LINEAR, new double[] {0.1, 0.2, 0.3}, false).betas();
        assertThat(trained).containsExactly(0.1f, 0.2f, 0.3f);
    }

    @Test
    void invalidRangesAreRejected() {
        assertThatThrownBy(() -> new NoiseSchedule(1000, 0, 0.02, BetaSchedule.LINEAR, null, false))
                .isInstanceOf(UnetlensException.class).hasMessageContaining("beta_start");
        assertThatThrownBy(() -> new NoiseSchedule(1, 0.1, 0.2, BetaSchedule.LINEAR, null, false))
                .isInstanceOf(UnetlensException.class).hasMessageContaining("num_train_timesteps");
    }
}
