package dev.unetlens.viz.attention;

import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Plane;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** DAAM's aggregation on constructed attention tensors whose answer is worked by hand. */
class DaamAccumulatorTest {
    private static final String A = "down_blocks.1.attentions.0.transformer_blocks.0.attn2";
    private static final String B = "up_blocks.1.attentions.0.transformer_blocks.0.attn2";
    private static final String MID = "mid_block.attentions.0.transformer_blocks.0.attn2";

    /**
     * B = 2 rows on an h×w block, 2 heads, 4 keys; every query of head n in the conditional row (1) has the
     * probabilities {@code cond[n]}; the unconditional row (0) puts everything on key 3, which must not count.
     */
    private static AttentionProbs constant(int h, int w, float[][] cond) {
        int t = h * w;
        float[] v = new float[2 * 2 * t * 4];
        for (int n = 0; n < 2; n++) {
            for (int q = 0; q < t; q++) {
                v[((0 * 2 + n) * t + q) * 4 + 3] = 1;
                System.arraycopy(cond[n], 0, v, ((2 + n) * t + q) * 4, 4);
            }
        }
        return new AttentionProbs(v, 2, 2, t, 4, h, w);
    }

    /**
     * Module A (2×2 maps) at steps 0 and 1, module B (4×4 maps) at step 0, latent 4×4. Maps constant in space, so
     * resizing (weights sum to 1) and clamping leave them as they are:
     * <pre>
     *                 SOT   cat   dog   EOT
     *   A head 0  s0  0.5   0.3   0.1   0.1
     *             s1  0.3   0.5   0.1   0.1    step mean 0.4 0.4 0.1 0.1
     *   A head 1      0.7   0.1   0.1   0.1    (both steps)
     *   B head 0      0.4   0.2   0.3   0.1
     *   B head 1      0.6   0.2   0.1   0.1
     *   mean of 4     0.525 0.225 0.15  0.1
     *   normalised by cat + dog = 0.375:  1.4  0.6  0.4  0.2667
     * </pre>
     */
    private static DaamAccumulator twoModules() {
        DaamAccumulator d = new DaamAccumulator(4, 4, 4);
        d.add(new MapLabel(A, 0, 999), constant(2, 2, new float[][] {{.5f, .3f, .1f, .1f}, {.7f, .1f, .1f, .1f}}), 1);
        d.add(new MapLabel(A, 1, 979), constant(2, 2, new float[][] {{.3f, .5f, .1f, .1f}, {.7f, .1f, .1f, .1f}}), 1);
        d.add(new MapLabel(B, 0, 999), constant(4, 4, new float[][] {{.4f, .2f, .3f, .1f}, {.6f, .2f, .1f, .1f}}), 1);
        return d;
    }

    private static void assertConstant(Plane p, double expected) {
        for (float v : p.values()) {
            assertThat((double) v).isCloseTo(expected, within(1e-6));
        }
    }

    @Test
    void averagesOverStepsModulesAndHeads() {
        HeatMaps m = twoModules().compute(DaamAccumulator.Selection.all(), 4, false);
        assertThat(m.height()).isEqualTo(4);
        assertThat(m.width()).isEqualTo(4);
        assertConstant(m.token(0), 0.525);
        assertConstant(m.token(1), 0.225);
        assertConstant(m.token(2), 0.15);
        assertConstant(m.token(3), 0.1);
        assertThat(m.sources()).containsEntry("maps", 4).containsEntry("modules", List.of(A, B))
                .containsEntry("steps", List.of(0, 1));
    }

    @Test
    void normalisesOverTheContentTokensOnly() {
        HeatMaps m = twoModules().compute(DaamAccumulator.Selection.all(), 4, true);
        assertConstant(m.token(1), 0.225 / (0.375 + 1e-6));
        assertConstant(m.token(2), 0.15 / (0.375 + 1e-6));
        assertConstant(m.token(0), 0.525 / (0.375 + 1e-6));
        assertConstant(m.token(3), 0.1 / (0.375 + 1e-6));
    }

    @Test
    void selectsModulesAndHeads() {
        // module A alone, head 1 alone: 0.7 0.1 0.1 0.1
        HeatMaps a1 = twoModules().compute(DaamAccumulator.Selection.modules(List.of(A)).heads(1), 4, false);
        assertConstant(a1.token(0), 0.7);
        assertThat(a1.sources()).containsEntry("maps", 1);
        // head 0 of both: A (0.4 0.4 0.1 0.1) and B (0.4 0.2 0.3 0.1) → 0.4 0.3 0.2 0.1
        HeatMaps h0 = twoModules().compute(DaamAccumulator.Selection.all().heads(0), 4, false);
        assertConstant(h0.token(1), 0.3);
        assertConstant(h0.token(2), 0.2);
    }

    @Test
    void stepsAreChosenUpFront() {
        DaamAccumulator d = new DaamAccumulator(4, 4, 4, step -> step == 1);
        d.add(new MapLabel(A, 0, 999), constant(2, 2, new float[][] {{.5f, .3f, .1f, .1f}, {.7f, .1f, .1f, .1f}}), 1);
        d.add(new MapLabel(A, 1, 979), constant(2, 2, new float[][] {{.3f, .5f, .1f, .1f}, {.7f, .1f, .1f, .1f}}), 1);
        HeatMaps m = d.compute(DaamAccumulator.Selection.all().heads(0), 4, false);
        assertConstant(m.token(1), 0.5);                 // step 1 alone
        assertThat(m.sources()).containsEntry("steps", List.of(1));
    }

    @Test
    void upsamplesBicubicallyAndClampsUndershoot() {
        // one head on a 1×2 block, latent 1×4: query 0 looks only at key 0, query 1 only at key 1.
        // key 1's map [0, 1] resizes to [−0.10546875, 0.2265625, 0.7734375, 1.10546875] (ResampleTest) and
        // the clamp lifts the first value to 0; key 0's map [1, 0] is its mirror.
        float[] v = {1, 0, 0, 1};
        DaamAccumulator d = new DaamAccumulator(1, 4, 2);
        d.add(new MapLabel(A, 0, 999), new AttentionProbs(v, 1, 1, 2, 2, 1, 2), 0);
        HeatMaps m = d.compute(DaamAccumulator.Selection.all(), 2, false);
        assertThat(m.token(1).values()).containsExactly(new float[] {0, 0.2265625f, 0.7734375f, 1.10546875f},
                within(1e-6f));
        assertThat(m.token(0).values()).containsExactly(new float[] {1.10546875f, 0.7734375f, 0.2265625f, 0},
                within(1e-6f));
    }

    @Test
    void daamDefaultLeavesOutTheMidBlockAndEighthSizeMaps() {
        DaamAccumulator d = new DaamAccumulator(16, 16, 4);
        float[][] sot = {{1, 0, 0, 0}, {1, 0, 0, 0}};
        float[][] cat = {{0, 1, 0, 0}, {0, 1, 0, 0}};
        d.add(new MapLabel(A, 0, 999), constant(4, 4, sot), 1);
        d.add(new MapLabel(MID, 0, 999), constant(4, 4, cat), 1);                       // the mid block
        d.add(new MapLabel("up_blocks.0.attentions.0.transformer_blocks.0.attn2", 0, 999),
                constant(2, 2, cat), 1);                                                   // 16/2 = factor 8
        HeatMaps m = d.compute(DaamAccumulator.Selection.daam(), 4, false);
        assertConstant(m.token(0), 1.0);
        assertConstant(m.token(1), 0.0);
        assertThat(m.sources()).containsEntry("modules", List.of(A));
        HeatMaps all = d.compute(DaamAccumulator.Selection.all(), 4, false);
        assertConstant(all.token(1), 4.0 / 6);                                            // 4 of 6 head maps
    }

    @Test
    void wordIsTheMeanOfItsTokens() {
        HeatMaps m = twoModules().compute(DaamAccumulator.Selection.all(), 4, false);
        assertConstant(m.word(List.of(1, 2)), (0.225 + 0.15) / 2);
    }

    @Test
    void refusesWhatCannotBeAggregated() {
        DaamAccumulator d = twoModules();
        assertThatThrownBy(() -> d.compute(DaamAccumulator.Selection.modules(List.of("conv_in")), 4, false))
                .hasMessageContaining("no cross-attention maps match").hasMessageContaining(A);
        assertThatThrownBy(() -> d.compute(DaamAccumulator.Selection.all(), 5, false))
                .hasMessageContaining("prompt length must be in [1, 4]");
        assertThatThrownBy(() -> d.add(new MapLabel(A, 2, 959), constant(4, 4, new float[][] {{1, 0, 0, 0},
                {1, 0, 0, 0}}), 1)).hasMessageContaining("after 2 heads on 2×2");
        assertThatThrownBy(() -> new DaamAccumulator(4, 4, 8).add(new MapLabel(A, 0, 1),
                constant(2, 2, new float[][] {{1, 0, 0, 0}, {1, 0, 0, 0}}), 1))
                .hasMessageContaining("is this a self-attention?");
    }
}
