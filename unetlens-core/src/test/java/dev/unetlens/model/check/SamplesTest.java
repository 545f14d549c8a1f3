package dev.unetlens.model.check;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** Which outputs the kernel checks sample ({@link Samples}): every index of a short axis, the edges first, distinct. */
class SamplesTest {
    @Test
    void alongTakesEverythingOrTheEdgesThenDistinctOthers() {
        SplittableRandom r = new SplittableRandom(1);
        assertThat(Samples.along(5, 16, r)).containsExactlyInAnyOrder(0, 1, 2, 3, 4);
        int[] picked = Samples.along(4096, 16, r);
        assertThat(picked).hasSize(16).startsWith(0, 4095, 1, 4094, 2048).doesNotHaveDuplicates()
                .contains(7, 8, 15, 16, 4080, 4079, 4088, 4087);               // the 8- and 16-wide block edges
        assertThat(Arrays.stream(picked).min().orElseThrow()).isZero();
        assertThat(Arrays.stream(picked).max().orElseThrow()).isEqualTo(4095);
        assertThat(Samples.along(1, 4, r)).containsExactly(0);
    }

    @Test
    void randomDrawsCountIndicesInRange() {
        SplittableRandom r = new SplittableRandom(2);
        int[] picked = Samples.random(4096, 2, r);
        assertThat(picked).hasSize(2);
        assertThat(Arrays.stream(picked).boxed().toList()).allSatisfy(i -> assertThat(i).isBetween(0, 4095));
        assertThat(Samples.random(1, 2, r)).containsExactly(0, 0);
    }
}
