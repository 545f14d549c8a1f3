package dev.unetlens.extract;

import dev.unetlens.UnetlensException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Representation operations on hand-worked arrays. */
class RepresentationTest {
    private static Representation rep(String name, long[] shape, float... v) {
        return new Representation(name, shape, v, false);
    }

    /** A 2×2 map and a 1×1 map: the 1×1 one is repeated to 2×2 (nearest), channels stacked. */
    @Test
    void concatRepeatsSmallMapsToTheLargestSize() {
        Representation a = rep("a", new long[] {1, 1, 2, 2}, 1, 2, 3, 4);
        Representation b = rep("b", new long[] {1, 1, 1, 1}, 9);
        Representation c = Representation.concat(List.of(a, b));
        assertThat(c.shape()).containsExactly(1, 2, 2, 2);
        assertThat(c.data()).containsExactly(1, 2, 3, 4, 9, 9, 9, 9);
    }

    /** Sizes 3 and 2: spatial = 2 doubled to 4 ≥ 3; the 3×3 map is repeated once and zero-padded bottom and right. */
    @Test
    void concatZeroPadsWhenSizesAreNotMultiples() {
        Representation a = rep("a", new long[] {1, 1, 3, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        Representation b = rep("b", new long[] {1, 1, 2, 2}, 1, 2, 3, 4);
        Representation c = Representation.concat(List.of(a, b));
        assertThat(c.shape()).containsExactly(1, 2, 4, 4);
        assertThat(c.data()).startsWith(1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0);
        assertThat(java.util.Arrays.copyOfRange(c.data(), 16, 32))
                .containsExactly(1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4);
    }

    @Test
    void concatMergesStepsIntoChannels() {
        Representation a = rep("a", new long[] {2, 1, 1, 1}, 5, 6);
        Representation c = Representation.concat(List.of(a));
        assertThat(c.shape()).containsExactly(1, 2, 1, 1);
        assertThat(c.data()).containsExactly(5, 6);
    }

    /** Two positions with features (1,0) and (1,1): cosine similarities 1, 1/√2, 1/√2, 1. */
    @Test
    void cosineSimilarityBetweenPositions() {
        Representation a = rep("a", new long[] {1, 2, 1, 2}, 1, 1, 0, 1);
        long[] shape = new long[4];
        float[] s = Representation.cosineSimilarity(List.of(a), List.of(a), shape);
        assertThat(shape).containsExactly(1, 2, 1, 2);
        assertThat(s[0]).isCloseTo(1f, within(1e-6f));
        assertThat(s[1]).isCloseTo((float) (1 / Math.sqrt(2)), within(1e-6f));
        assertThat(s[2]).isCloseTo((float) (1 / Math.sqrt(2)), within(1e-6f));
        assertThat(s[3]).isCloseTo(1f, within(1e-6f));
    }

    @Test
    void arithmeticAndHalfPrecision() {
        Representation a = rep("a", new long[] {1, 1, 1, 3}, 1, 2, 3);
        Representation b = rep("b", new long[] {1, 1, 1, 3}, 4, 5, 6);
        assertThat(a.plus(b).data()).containsExactly(5, 7, 9);
        assertThat(b.minus(a).data()).containsExactly(3, 3, 3);
        assertThat(a.times(b).data()).containsExactly(4, 10, 18);
        assertThat(b.dividedBy(a).data()).containsExactly(4, 2.5f, 2);
        assertThat(a.times(2).plus(1).data()).containsExactly(3, 5, 7);
        Representation h = rep("x", new long[] {1, 1, 1, 2}, 0.1f, 70000f).toFloat16();
        assertThat(h.half()).isTrue();
        assertThat(h.data()[0]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(0.1f))).isNotEqualTo(0.1f);
        assertThat(h.data()[1]).isInfinite();
        assertThat(h.toNpy().dtype()).isEqualTo(dev.unetlens.io.DType.F16);
        assertThatThrownBy(() -> a.plus(rep("c", new long[] {1, 1, 3, 1}, 1, 2, 3)))
                .isInstanceOf(UnetlensException.class).hasMessageContaining("shapes differ");
    }
}
