package dev.unetlens.model.check;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** AttentionCheck's bound on one row; on real kernels: AttentionCoreTest and KernelSweepTest; its sampling: SamplesTest. */
class AttentionCheckTest {
    @Test
    void aRowOfOneKeyIsThatKeysValue() {
        AttentionCheck.Row row = AttentionCheck.row(new float[] {1, 2}, new float[] {3, 4}, new float[] {5, -6, 7}, 0.5);
        assertThat(row.y()).containsExactly(5, -6, 7);
        for (double b : row.bound()) {
            assertThat(b).isPositive().isLessThan(1e-4 * 7);                // a few ulp-sized terms of |v| ≤ 7
        }
    }
}
