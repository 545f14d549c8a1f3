package dev.unetlens.rng;

import dev.unetlens.golden.Golden;
import dev.unetlens.io.NpyArray;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static dev.unetlens.rng.TorchGeneratorGoldenTest.assertBitExact;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fixed inputs of the fixtures were drawn from seeded generators (golden README §8, §14); {@link TorchGenerator}
 * must reproduce each bit for bit in the recorded draw order — the order the pipelines will rely on. A stacked file
 * (first dimension = step) is one draw per row. Seeds not in the run's {@code meta.json} ({@code generator_seed})
 * are the README's.
 */
class SeededInputsTest {

    /** One generator and the files it filled, in draw order. */
    record Draws(long seed, List<String> files) {
    }

    @TestFactory
    Stream<DynamicTest> fixedInputsComeFromTheirSeeds() {
        Golden g = Golden.get();
        List<Draws> all = new ArrayList<>();
        all.add(new Draws(100, List.of("schedulers/x0.npy")));
        all.add(new Draws(101, List.of("schedulers/fixed_noise.npy")));
        for (String pred : predictionDirs(g)) {
            all.add(new Draws(102, List.of(pred + "/add_noise_original.npy")));
            all.add(new Draws(103, List.of(pred + "/add_noise_noise.npy")));
        }
        for (String model : g.modelsWith("pipeline")) {
            String p = "cases/" + model + "/pipeline/";
            all.add(new Draws(555, List.of(p + "init_latents.npy")));
            for (String run : runsWith(g, p, "posterior_eps.npy")) {
                long seed = g.json(p + run + "/meta.json").path("generator_seed").asLong(777);
                List<String> files = new ArrayList<>(List.of(p + run + "/posterior_eps.npy", p + run + "/noise.npy"));
                if (g.exists(p + run + "/step_noise.npy")) {
                    files.add(p + run + "/step_noise.npy");
                }
                all.add(new Draws(seed, files));
            }
            for (String run : runsWith(g, p, "step_noise.npy")) {
                if (!g.exists(p + run + "/posterior_eps.npy")) {
                    long seed = g.json(p + run + "/meta.json").get("generator_seed").asLong();
                    all.add(new Draws(seed, List.of(p + run + "/step_noise.npy")));
                }
            }
        }
        assertThat(all).hasSizeGreaterThan(10);
        return all.stream().map(d -> DynamicTest.dynamicTest("seed " + d.seed() + ": " + d.files(), () -> check(g, d)));
    }

    private static void check(Golden g, Draws d) {
        TorchGenerator gen = new TorchGenerator(d.seed());
        for (String file : d.files()) {
            NpyArray a = g.npy(file);
            boolean stacked = file.endsWith("step_noise.npy");
            long[] shape = stacked ? Arrays.copyOfRange(a.shape(), 1, a.shape().length) : a.shape();
            long rows = stacked ? a.shape()[0] : 1;
            int per = Math.toIntExact(NpyArray.elementCount(shape));
            float[] expected = a.toFloats();
            for (int r = 0; r < rows; r++) {
                assertBitExact(file + (stacked ? "[" + r + "]" : ""), gen.randn(shape),
                        Arrays.copyOfRange(expected, r * per, (r + 1) * per));
            }
        }
    }

    private static List<String> predictionDirs(Golden g) {
        return g.entries("schedulers").map(Golden.Entry::file).filter(f -> f.endsWith("/add_noise_original.npy"))
                .map(f -> f.substring(0, f.lastIndexOf('/'))).sorted().toList();
    }

    private static List<String> runsWith(Golden g, String pipelineDir, String fileName) {
        return g.entries("pipeline").map(Golden.Entry::file)
                .filter(f -> f.startsWith(pipelineDir) && f.endsWith("/" + fileName))
                .map(f -> f.substring(pipelineDir.length(), f.length() - fileName.length() - 1)).sorted().toList();
    }
}
