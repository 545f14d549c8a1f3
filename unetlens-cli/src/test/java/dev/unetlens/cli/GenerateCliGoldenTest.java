package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.golden.Close;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.RgbImage;
import dev.unetlens.schedule.SchedulerKind;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code generate} command itself, given the golden runs' prompts, seeds and settings (from each run's
 * {@code meta.json}), writes an {@code image.png} equal to the golden uint8 image ±1 (README §9), and an A1111
 * {@code parameters} text chunk. Runs whose random draws the CLI cannot be told (no recorded seed and no given
 * latents) are listed, not skipped silently: the pipeline golden test covers them by replaying the draws.
 */
class GenerateCliGoldenTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @TestFactory
    Stream<DynamicTest> generateMatchesTheGoldenImages() throws Exception {
        Golden g = Golden.get();
        List<DynamicTest> tests = new ArrayList<>();
        List<String> notRunnable = new ArrayList<>();
        for (String model : g.modelsWith("pipeline")) {
            Path dir = g.path("cases/" + model + "/pipeline");
            try (Stream<Path> runs = Files.list(dir)) {
                for (Path run : runs.filter(p -> Files.isRegularFile(p.resolve("meta.json"))).sorted().toList()) {
                    JsonNode meta = JSON.readTree(run.resolve("meta.json").toFile());
                    List<String> args = args(model, run, meta);
                    if (args == null) {
                        notRunnable.add(model + "/" + run.getFileName());
                        continue;
                    }
                    tests.add(DynamicTest.dynamicTest(model + "/" + run.getFileName(), () -> check(run, args)));
                    if (tests.stream().noneMatch(t -> t.getDisplayName().startsWith(model + "/explicit "))) {
                        List<String> plain = withExplicit(args);               // each model's first run, explicit too
                        tests.add(DynamicTest.dynamicTest(model + "/explicit " + run.getFileName(), () -> check(run, plain)));
                    }
                }
            }
        }
        System.out.println("generate CLI golden runs: " + tests.size() + "; covered only by the pipeline test (seed not recorded): "
                + notRunnable);
        return tests.stream();
    }

    /** The CLI arguments reproducing a run, or null if its random draws cannot be given on the command line. */
    private List<String> args(String model, Path run, JsonNode meta) {
        Golden g = Golden.get();
        boolean img2img = meta.has("strength");
        JsonNode seed = meta.get("generator_seed");
        boolean seeded = seed != null && !seed.isNull();
        if (img2img && !seeded) {
            return null;
        }
        List<String> a = new ArrayList<>(List.of("generate", "--model", g.path("models/" + model).toString(),
                "--prompt", meta.get("prompt").asText(),
                "--scheduler", SchedulerKind.fromDiffusersClass(meta.get("scheduler").asText()).cliName(),
                "--steps", meta.get("num_inference_steps").asText(),
                "--guidance", meta.get("guidance_scale").asText(),
                "--seed", seeded ? seed.asText() : "0"));
        JsonNode neg = meta.get("negative_prompt");
        if (neg != null && !neg.isNull()) {
            a.addAll(List.of("--negative-prompt", neg.asText()));
        }
        JsonNode spacing = meta.path("scheduler_config").path("timestep_spacing");
        if (spacing.isTextual()) {
            a.addAll(List.of("--timestep-spacing", spacing.asText()));
        }
        if (img2img) {
            String input = meta.has("input_image") ? run.resolve(meta.get("input_image").asText()).normalize().toString()
                    : run.resolve("input.png").toString();
            a.addAll(List.of("--image", input, "--strength", meta.get("strength").asText()));
        } else {
            a.addAll(List.of("--latents", run.getParent().resolve("init_latents.npy").toString(),
                    "--height", meta.path("height").asText("128"), "--width", meta.path("width").asText("128")));
        }
        a.addAll(List.of("--out", tmp.resolve(model + "-" + run.getFileName()).toString()));
        return a;
    }

    /** The same run with {@code --attention explicit}, into its own directory. */
    private static List<String> withExplicit(List<String> args) {
        List<String> a = new ArrayList<>(args.subList(0, args.size() - 2));
        a.addAll(List.of("--attention", "explicit", "--out", args.getLast() + "-explicit"));
        return a;
    }

    private static void check(Path run, List<String> args) {
        int code = Main.run(args.toArray(String[]::new));
        assertThat(code).as("exit status of " + String.join(" ", args)).isZero();
        Path out = Path.of(args.getLast());
        RgbImage img = RgbImage.read(out.resolve("image.png"));
        NpyArray expected = Golden.get().npy(Golden.get().root().relativize(run.resolve("image_uint8.npy")).toString());
        float[] actual = new float[img.rgb().length];
        for (int i = 0; i < actual.length; i++) {
            actual[i] = img.rgb()[i] & 0xff;
        }
        Close.assertClose(run + "/image_uint8.npy via the CLI", new long[] {1, img.height(), img.width(), 3}, actual, expected, 1, 0);
        assertThat(RgbImage.readPngText(out.resolve("image.png")).get("parameters"))
                .contains("Steps: ").contains("Seed: ").contains("Size: " + img.width() + "x" + img.height());
        assertThat(out.resolve("manifest.json")).exists();
        assertThat(out.resolve("latents.npy")).exists();
        computeIsRecorded(out.resolve("manifest.json"));
        String kernel = args.contains("explicit") ? "explicit" : "sdpa";    // sdpa: the default
        JsonNode attention = readJson(out.resolve("manifest.json")).path("compute").path("attention");
        assertThat(attention.path("selected").asText()).isEqualTo(kernel);
        assertThat(attention.path("kernel").asText()).as("the kernel that ran").isEqualTo(kernel);
    }

    private static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The manifest says what the numbers were computed on, and which way each operation shape took. */
    static void computeIsRecorded(Path manifest) {
        JsonNode c;
        try {
            c = new ObjectMapper().readTree(manifest.toFile()).get("compute");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertThat(c).as("compute record").isNotNull();
        assertThat(c.get("onednn").asText()).startsWith("oneDNN v");
        assertThat(c.get("onednn_isa").asText()).isNotBlank().isNotEqualTo("unknown");
        assertThat(c.get("aten_cpu_capability").asText()).isNotBlank().isNotEqualTo("unknown");
        JsonNode k = c.get("kernel_checks");
        assertThat(k.get("calls").asLong()).isPositive();
        assertThat(k.get("thorough_checks").asLong()).isGreaterThanOrEqualTo(k.get("shapes").size());
        assertThat(k.get("shapes")).allSatisfy(s -> assertThat(s.asText())
                .matches("(conv2d|linear|attention) .+: (onednn|padded_channels|im2col|float64|libtorch|sdpa|explicit)( \\(.+\\))?"));
    }
}
