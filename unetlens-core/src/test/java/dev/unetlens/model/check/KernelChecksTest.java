package dev.unetlens.model.check;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The checks catch wrong kernels of the kinds seen or imaginable — wrong everywhere, everywhere but the first row,
 * in the last output channel, at a 16-channel block boundary, along one border, slightly (10⁻³) everywhere — and
 * accept rounding-level differences; {@link KernelChecks} falls back, condemns, switches after a later failure and
 * gives up with one line. The "kernels" here are a float64 convolution, rounded, then corrupted on purpose.
 */
class KernelChecksTest {
    private static final int B = 2;
    private static final int C = 24;
    private static final int O = 40;
    private static final int H = 12;
    private static final int W = 20;

    private static NDArray exact(NDArray x, NDArray w, NDArray b) {
        NDArray x64 = x.toType(DataType.FLOAT64, true);
        return x64.getNDArrayInternal().convolution(x64, w.toType(DataType.FLOAT64, true), b.toType(DataType.FLOAT64, true),
                new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), 1).singletonOrThrow().toType(DataType.FLOAT32, true);
    }

    private record Case(NDArray x, NDArray w, NDArray b, NDArray y) {
        Comparison thorough(NDArray out) {
            return ConvCheck.compare(x, w, b, 1, 1, 1, out, new SplittableRandom(1));
        }
    }

    private static Case conv(NDManager m) {
        NDArray x = m.randomNormal(new Shape(B, C, H, W));
        NDArray w = m.randomNormal(new Shape(O, C, 3, 3)).mul(0.2);
        NDArray b = m.randomNormal(new Shape(O)).mul(0.05);
        return new Case(x, w, b, exact(x, w, b));
    }

    private static NDArray with(NDArray y, String index, float value) {
        NDArray z = y.duplicate();
        z.set(new NDIndex(index), value);
        return z;
    }

    static List<UnaryOperator<NDArray>> corruptions() {
        return List.of(
                y -> y.mul(-1),                                                // everywhere
                y -> with(y, ":, :, 1:, :", 0.5f),                            // every row but the first
                y -> with(y, ":, " + (O - 1) + ", :, :", 0f),                 // the last channel
                y -> with(y, ":, 16, :, :", 3f),                              // a block boundary
                y -> with(y, ":, :, :, " + (W - 1), 0f),                      // the right border
                y -> y.mul(1.001f));                                          // 10⁻³ everywhere
    }

    @ParameterizedTest(name = "corruption {0}")
    @ValueSource(ints = {0, 1, 2, 3, 4, 5})
    void aThoroughCheckCatchesEachCorruption(int which) {
        try (NDManager m = NDManager.newBaseManager()) {
            Case c = conv(m);
            Comparison wrong = c.thorough(corruptions().get(which).apply(c.y()));
            assertThat(wrong.passed()).as(wrong.describe()).isFalse();
            assertThat(wrong.worstRatio()).isGreaterThan(1);
        }
    }

    @Test
    void roundingLevelDifferencesPass() {
        try (NDManager m = NDManager.newBaseManager()) {
            Case c = conv(m);
            Comparison right = c.thorough(c.y());
            assertThat(right.passed()).as(right.describe()).isTrue();
            assertThat(right.samples()).isGreaterThan(500);
            NDArray ulps = c.y().add(c.y().mul(3e-7f));                               // a few ulps off: still right
            assertThat(c.thorough(ulps).passed()).isTrue();
        }
    }

    @Test
    void aSpotCheckCatchesAKernelThatIsWrongAlmostEverywhere() {
        try (NDManager m = NDManager.newBaseManager()) {
            Case c = conv(m);
            NDArray wrong = corruptions().get(1).apply(c.y());
            WeightRows rows = WeightRows.of(c.w(), c.b());
            for (int call = 0; call < 50; call++) {
                Comparison spot = ConvCheck.spot(c.x(), c.w().getShape(), rows, 1, 1, 1, wrong, new SplittableRandom(call));
                assertThat(spot.samples()).isEqualTo(ConvCheck.SPOT_POSITIONS * ConvCheck.SPOT_CHANNELS);
                assertThat(spot.passed()).isFalse();
                assertThat(ConvCheck.spot(c.x(), c.w().getShape(), rows, 1, 1, 1, c.y(), new SplittableRandom(call))
                        .passed()).isTrue();
            }
        }
    }

    /** Long sums get fewer spot outputs (the check's cost stays near {@link ConvCheck#SPOT_MACS}), never fewer than {@link ConvCheck#SPOT_MIN}. */
    @ParameterizedTest(name = "{0} input channels")
    @ValueSource(ints = {3, 24, 700, 1300, 2600})
    void aSpotCheckOfALongSumStillCatchesAKernelWrongAlmostEverywhere(int channels) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(new Shape(1, channels, 16, 8));
            NDArray w = m.randomNormal(new Shape(O, channels, 3, 3)).mul(0.2);
            NDArray b = m.randomNormal(new Shape(O)).mul(0.05);
            NDArray y = exact(x, w, b);
            NDArray wrong = with(y, ":, :, 1:, :", 0.5f);
            WeightRows rows = WeightRows.of(w, b);
            long terms = channels * 9L;
            for (int call = 0; call < 20; call++) {
                Comparison spot = ConvCheck.spot(x, w.getShape(), rows, 1, 1, 1, y, new SplittableRandom(call));
                assertThat(spot.passed()).isTrue();
                assertThat(spot.samples()).isBetween(ConvCheck.SPOT_MIN, (int) Math.max(ConvCheck.SPOT_MIN, ConvCheck.SPOT_MACS / terms));
                Comparison caught = ConvCheck.spot(x, w.getShape(), rows, 1, 1, 1, wrong, new SplittableRandom(call));
                assertThat(caught.failures()).as("call %d", call).isGreaterThan(0);
            }
        }
    }

    @ParameterizedTest(name = "k = {0}")
    @ValueSource(ints = {7, 320, 1280, 5120, 9000})
    void aLinearSpotCheckSpendsAboutItsBudgetAndCatchesAWrongProduct(int k) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(new Shape(2, 9, k));
            NDArray w = m.randomNormal(new Shape(33, k)).mul(0.1);
            NDArray y = x.toType(DataType.FLOAT64, true).matMul(w.toType(DataType.FLOAT64, true).transpose())
                    .toType(DataType.FLOAT32, true);
            WeightRows rows = WeightRows.of(w, null);
            for (int call = 0; call < 20; call++) {
                Comparison spot = LinearCheck.spot(x, k, 33, rows, y, new SplittableRandom(call));
                assertThat(spot.passed()).isTrue();
                assertThat(spot.samples()).isBetween(ConvCheck.SPOT_MIN, (int) Math.clamp(ConvCheck.SPOT_MACS / k, ConvCheck.SPOT_MIN, 16));
                assertThat(LinearCheck.spot(x, k, 33, rows, y.mul(-1), new SplittableRandom(call)).failures())
                        .isGreaterThan(0);
            }
        }
    }

    /** Maps libtorch keeps channels-last (after a transformer) are read in place and checked like any other. */
    @Test
    void channelsLastMapsAreCheckedInPlace() {
        try (NDManager m = NDManager.newBaseManager()) {
            Case c = conv(m);
            NDArray x = channelsLast(m, c.x());
            NDArray y = channelsLast(m, c.y());
            NDArray wrong = channelsLast(m, corruptions().get(1).apply(c.y()));
            assertThat(NativeView.of(x).rowMajor()).isFalse();
            WeightRows rows = WeightRows.of(c.w(), c.b());
            assertThat(ConvCheck.compare(x, c.w(), c.b(), 1, 1, 1, y, new SplittableRandom(1)).passed()).isTrue();
            assertThat(ConvCheck.compare(x, c.w(), c.b(), 1, 1, 1, wrong, new SplittableRandom(1)).passed()).isFalse();
            for (int call = 0; call < 20; call++) {
                assertThat(ConvCheck.spot(x, c.w().getShape(), rows, 1, 1, 1, y, new SplittableRandom(call)).passed()).isTrue();
                assertThat(ConvCheck.spot(x, c.w().getShape(), rows, 1, 1, 1, wrong, new SplittableRandom(call)).passed())
                        .isFalse();
            }
        }
    }

    /** The same values in NHWC memory behind NCHW indices. */
    private static NDArray channelsLast(NDManager m, NDArray a) {
        Shape s = a.getShape();
        return m.create(a.transpose(0, 2, 3, 1).toFloatArray(), new Shape(s.get(0), s.get(2), s.get(3), s.get(1)))
                .transpose(0, 3, 1, 2);
    }

    /** A fake operation: the paths in {@code badPaths} give a corrupted output, others the exact one. */
    private static final class Fake implements KernelChecks.Way<String> {
        final Case c;
        final List<String> badPaths;
        final List<String> ran = new ArrayList<>();

        Fake(Case c, List<String> badPaths) {
            this.c = c;
            this.badPaths = new ArrayList<>(badPaths);
        }

        @Override
        public NDArray compute(String path) {
            ran.add(path);
            return badPaths.contains(path) ? c.y().mul(-1) : c.y().duplicate();
        }

        @Override
        public Comparison check(String path, NDArray y, boolean thorough, SplittableRandom random) {
            return thorough ? ConvCheck.compare(c.x(), c.w(), c.b(), 1, 1, 1, y, random)
                    : ConvCheck.spot(c.x(), c.w().getShape(), WeightRows.of(c.w(), c.b()), 1, 1, 1, y, random);
        }
    }

    @Test
    void aWrongWayIsReplacedByTheNextAndNeverTriedAgain() {
        try (NDManager m = NDManager.newBaseManager()) {
            Case c = conv(m);
            Fake fake = new Fake(c, List.of("fast"));
            Object key = "fallback " + System.nanoTime();
            NDArray y = KernelChecks.run("test", key, List.of("fast", "slow"), p -> false, fake);
            assertThat(y.toFloatArray()).isEqualTo(c.y().toFloatArray());
            KernelChecks.Verdict v = KernelChecks.verdict(key).orElseThrow();
            assertThat(v.path()).isEqualTo("slow");
            assertThat(v.rejected()).extracting(KernelChecks.Rejected::path).containsExactly("fast");
            KernelChecks.run("test", key, List.of("fast", "slow"), p -> false, fake);
            assertThat(fake.ran).containsExactly("fast", "slow", "slow");
        }
    }

    @Test
    void aWayThatPassedOnceAndFailsLaterIsSwitchedAndReported() {
        try (NDManager m = NDManager.newBaseManager()) {
            Case c = conv(m);
            Fake fake = new Fake(c, List.of());
            Object key = "flaky " + System.nanoTime();
            KernelChecks.run("test", key, List.of("fast", "slow"), p -> false, fake);
            assertThat(KernelChecks.verdict(key).orElseThrow().path()).isEqualTo("fast");
            fake.badPaths.add("fast");                                                  // the kernel turns wrong
            NDArray y = KernelChecks.run("test", key, List.of("fast", "slow"), p -> false, fake);
            assertThat(y.toFloatArray()).isEqualTo(c.y().toFloatArray());
            assertThat(KernelChecks.verdict(key).orElseThrow().path()).isEqualTo("slow");
            assertThat(KernelChecks.events()).anyMatch(e -> e.contains(key.toString()) && e.contains("later call"));
            fake.badPaths.remove("fast");                                               // right again: still condemned
            KernelChecks.run("test", key, List.of("fast", "slow"), p -> false, fake);
            assertThat(fake.ran).containsExactly("fast", "fast", "slow", "slow");
        }
    }

    @Test
    void whenNoWayIsRightTheRunStopsWithOneLineNamingTheShape() {
        try (NDManager m = NDManager.newBaseManager()) {
            Case c = conv(m);
            Object key = "x(2, 24, 12, 20) hopeless " + System.nanoTime();
            assertThatThrownBy(() -> KernelChecks.run("conv2d", key, List.of("a", "b"), p -> false,
                    new Fake(c, List.of("a", "b"))))
                    .isInstanceOf(KernelChecks.KernelException.class)
                    .hasMessageContaining(key.toString()).hasMessageContaining("a: ").hasMessageContaining("b: ")
                    .hasMessageNotContaining("\n");
        }
    }

    @Test
    void nonFiniteInputsCannotBeCheckedAndLeaveNoVerdict() {
        try (NDManager m = NDManager.newBaseManager()) {
            Case c = conv(m);
            NDArray nan = c.x().mul(Float.NaN);
            Case bad = new Case(nan, c.w(), c.b(), exact(nan, c.w(), c.b()));
            Object key = "nan " + System.nanoTime();
            long before = KernelChecks.unchecked();
            KernelChecks.run("test", key, List.of("fast"), p -> false, new Fake(bad, List.of()));
            assertThat(KernelChecks.verdict(key)).isEmpty();
            assertThat(KernelChecks.unchecked()).isEqualTo(before + 1);
        }
    }
}
