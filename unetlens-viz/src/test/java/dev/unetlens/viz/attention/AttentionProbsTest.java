package dev.unetlens.viz.attention;

import dev.unetlens.viz.Plane;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class AttentionProbsTest {
    /** value = 1000·b + 100·n + 10·q + s, to read indices back. */
    private static AttentionProbs indexed(int b, int n, int h, int w, int s) {
        int t = h * w;
        float[] v = new float[b * n * t * s];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < n; j++) {
                for (int q = 0; q < t; q++) {
                    for (int k = 0; k < s; k++) {
                        v[((i * n + j) * t + q) * s + k] = 1000 * i + 100 * j + 10 * q + k;
                    }
                }
            }
        }
        return new AttentionProbs(v, b, n, t, s, h, w);
    }

    @Test
    void keyMapIsTheQueriesOfOneKeyInRowMajorOrder() {
        Plane p = indexed(2, 3, 2, 3, 4).keyMap(1, 2, 3);
        assertThat(p.height()).isEqualTo(2);
        assertThat(p.width()).isEqualTo(3);
        assertThat(p.get(0, 0)).isEqualTo(1203);
        assertThat(p.get(1, 2)).isEqualTo(1000 + 200 + 50 + 3);   // query 1·3 + 2 = 5
    }

    @Test
    void selfMapAveragesHeads() {
        AttentionProbs a = indexed(1, 2, 2, 2, 4);
        Plane p = a.selfMap(0, new int[] {0, 1}, 1, 0);          // query 2
        assertThat(p.get(0, 1)).isCloseTo((20 + 1 + 120 + 1) / 2f, within(1e-6f));
        assertThatThrownBy(() -> indexed(1, 1, 2, 2, 3).selfMap(0, new int[] {0}, 0, 0))
                .hasMessageContaining("needs S = T");
    }

    @Test
    void keyMassIsTheMeanOverHeadsAndQueries() {
        AttentionProbs a = indexed(1, 2, 1, 2, 2);
        // key 0: (0 + 10 + 100 + 110)/4 = 55; key 1: 56
        assertThat(a.keyMass(0)).containsExactly(55, 56);
    }

    @Test
    void blockSizeFollowsTheLatentDown() {
        assertThat(AttentionProbs.blockSize(4096, 64, 64)).containsExactly(64, 64);
        assertThat(AttentionProbs.blockSize(256, 64, 64)).containsExactly(16, 16);
        assertThat(AttentionProbs.blockSize(96 * 64 / 4, 64, 96)).containsExactly(32, 48);
        assertThat(AttentionProbs.blockSize(4 * 6, 13, 21)).containsExactly(4, 6);   // 13→7→4, 21→11→6
        assertThatThrownBy(() -> AttentionProbs.blockSize(100, 64, 64)).hasMessageContaining("no level");
    }

    @Test
    void refusesMismatchedShapes() {
        assertThatThrownBy(() -> new AttentionProbs(new float[12], 1, 1, 6, 2, 2, 2))
                .hasMessageContaining("queries must be H·W");
        assertThatThrownBy(() -> new AttentionProbs(new float[11], 1, 1, 4, 3, 2, 2))
                .hasMessageContaining("needs 12 values");
    }

    @Test
    void tokensFindWordsAsDaamDoes() {
        List<String> labels = List.of("<|startoftext|>", "a", "red", "sun", "over", "red", "sun", "<|endoftext|>",
                "<pad>");
        assertThat(Tokens.promptLength(labels)).isEqualTo(8);
        assertThat(Tokens.indicesOf(labels, List.of("red", "sun</w>"))).containsExactly(2, 3, 5, 6);
        assertThat(Tokens.indicesOf(labels, List.of("SUN"))).containsExactly(3, 6);
        assertThat(Tokens.indicesOf(labels, List.of("moon"))).isEmpty();
        assertThat(Tokens.display("<|startoftext|>")).isEqualTo("[SOT]");
        assertThat(Tokens.display("hair</w>")).isEqualTo("hair");
    }
}
