package dev.unetlens.model.check;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** AttentionCheck's sampling; its bound on real kernels: AttentionCoreTest and KernelSweepTest. */
class AttentionCheckTest {
    @Test
    void samplingTakesEverythingOrTheEndsThenDistinctOthers() {
        SplittableRandom r = new SplittableRandom(1);
        assertThat(AttentionCheck.pick(5, 16, true, r)).containsExactly(0, 1, 2, 3, 4);
        long[] picked = AttentionCheck.pick(4096, 16, true, r);
        assertThat(picked).hasSize(16).startsWith(0, 4095).doesNotHaveDuplicates();
        assertThat(java.util.Arrays.stream(picked).min().orElseThrow()).isZero();
        assertThat(java.util.Arrays.stream(picked).max().orElseThrow()).isEqualTo(4095);
        assertThat(AttentionCheck.pick(4096, 2, false, r)).hasSize(2).doesNotHaveDuplicates();
    }

    @Test
    void aRowOfOneKeyIsThatKeysValue() {
        AttentionCheck.Row row = AttentionCheck.row(new float[] {1, 2}, new float[] {3, 4}, new float[] {5, -6, 7}, 0.5);
        assertThat(row.y()).containsExactly(5, -6, 7);
        for (double b : row.bound()) {
            assertThat(b).isPositive().isLessThan(1e-4 * 7);                // a few ulp-sized terms of |v| ≤ 7
        }
    }
}
