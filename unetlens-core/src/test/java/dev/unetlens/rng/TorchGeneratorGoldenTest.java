package dev.unetlens.rng;

import dev.unetlens.golden.Golden;
import dev.unetlens.io.NpyArray;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Every {@code torch_rng/} fixture, bit for bit (golden README §8). Cases are discovered from the index and decoded
 * from the file names: {@code randn_seed{S}_{shape}}, {@code rand_seed{S}_{shape}} and
 * {@code randn_seed{S}_seq_{shape}_then_{shape}...} (the last draw of the sequence is stored).
 */
public class TorchGeneratorGoldenTest {
    private static final Pattern NAME = Pattern.compile("(randn|rand)_seed(\\d+)_(seq_)?([0-9x_then]+)\\.npy");

    @TestFactory
    Stream<DynamicTest> everyTorchRngFixture() {
        Golden g = Golden.get();
        List<DynamicTest> tests = new ArrayList<>();
        g.entries("torch_rng").forEach(e -> tests.add(DynamicTest.dynamicTest(e.file(), () -> check(g, e.file()))));
        assertThat(tests).as("torch_rng fixtures in the index").isNotEmpty();
        tests.add(DynamicTest.dynamicTest("every torch_rng fixture was checked",
                () -> assertThat(g.unread("torch_rng", null)).isEmpty()));
        return tests.stream();
    }

    private static void check(Golden g, String file) {
        String name = file.substring(file.lastIndexOf('/') + 1);
        Matcher m = NAME.matcher(name);
        if (!m.matches()) {
            fail("cannot decode torch_rng fixture name " + name);
        }
        boolean normal = m.group(1).equals("randn");
        TorchGenerator gen = new TorchGenerator(Long.parseLong(m.group(2)));
        List<long[]> draws = new ArrayList<>();
        for (String shape : m.group(4).split("_then_")) {
            draws.add(Arrays.stream(shape.split("x")).mapToLong(Long::parseLong).toArray());
        }
        assertThat(m.group(3) != null).as("a sequence has several draws, a single draw one: " + name)
                .isEqualTo(draws.size() > 1);
        float[] last = null;
        for (long[] shape : draws) {
            last = normal ? gen.randn(shape) : gen.rand(shape);
        }
        NpyArray expected = g.npy(file);
        assertThat(expected.shape()).as(file + " shape").containsExactly(draws.getLast());
        assertBitExact(file, last, expected.toFloats());
    }

    /** Every value has the same bits (so NaN payloads and signed zeros count too). */
    public static void assertBitExact(String what, float[] actual, float[] expected) {
        assertThat(actual.length).as(what + " element count").isEqualTo(expected.length);
        int bad = 0;
        int first = -1;
        for (int i = 0; i < actual.length; i++) {
            if (Float.floatToRawIntBits(actual[i]) != Float.floatToRawIntBits(expected[i])) {
                bad++;
                first = first < 0 ? i : first;
            }
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + actual.length + " values differ in their bits; first at " + first
                    + ": " + actual[first] + " vs expected " + expected[first]);
        }
    }
}
