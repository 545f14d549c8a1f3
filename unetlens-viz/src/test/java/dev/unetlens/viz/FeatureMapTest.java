package dev.unetlens.viz;

import dev.unetlens.io.NpyArray;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FeatureMapTest {
    @Test
    void takesOneBatchRowOfAHookDump() {
        // [B=2, C=2, H=1, W=2]: values 0…7; row 1 is 4, 5 | 6, 7
        float[] v = {0, 1, 2, 3, 4, 5, 6, 7};
        FeatureMap m = FeatureMap.of(NpyArray.ofFloats(new long[] {2, 2, 1, 2}, v), 1);
        assertThat(m.shapeText()).isEqualTo("[2, 1, 2]");
        assertThat(m.channel(1).values()).containsExactly(6, 7);
        assertThat(m.at(0, 1)).containsExactly(5, 7);
        assertThatThrownBy(() -> FeatureMap.of(NpyArray.ofFloats(new long[] {2, 2, 1, 2}, v), 2))
                .hasMessageContaining("batch row must be in [0, 1]");
        assertThatThrownBy(() -> FeatureMap.of(NpyArray.ofFloats(new long[] {8}, v), 0))
                .hasMessageContaining("[C, H, W] or [B, C, H, W]");
    }

    @Test
    void transformerSequencesBecomeMaps() {
        // [T = 1·2, C = 3] → [3, 1, 2]
        FeatureMap m = FeatureMap.ofTokens(new float[] {1, 2, 3, 4, 5, 6}, 1, 2, 3);
        assertThat(m.channel(0).values()).containsExactly(1, 4);
        assertThat(m.channel(2).values()).containsExactly(3, 6);
    }

    @Test
    void fileStemsAreSafeNames() {
        assertThat(new MapLabel("up_blocks.1.attentions.0.transformer_blocks.0.attn2:probs", 7, 801).fileStem())
                .isEqualTo("up_blocks.1.attentions.0.transformer_blocks.0.attn2.probs_step007");
        assertThat(MapLabel.of("mid_block").fileStem()).isEqualTo("mid_block");
        assertThat(new MapLabel("mid_block", 12, 501).stepText()).isEqualTo("step 12 · t = 501");
    }
}
