package dev.unetlens.cli;

import dev.unetlens.golden.Golden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad input gets one line naming the problem, a non-zero exit, and nothing written. */
class CliErrorsTest {
    @TempDir
    Path tmp;

    static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private String model() {
        return Golden.get().path("models/" + Golden.get().models().getFirst()).toString();   // any model will do
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown scheduler|--scheduler foo|unknown scheduler 'foo'",
        "height not a multiple of 8|--height 100|--height must be a positive multiple of 8",
        "strength above 1|--image IMG --strength 1.5|--strength must be in (0, 1]",
        "strength zero|--image IMG --strength 0|--strength must be in (0, 1]",
        "no steps|--steps 0|--steps must be in [1, 1000]",
        "negative guidance|--guidance -1|--guidance must be a finite number ≥ 0",
        "infinite guidance|--guidance Infinity|--guidance must be a finite number ≥ 0, got Infinity",
        "repeated option|--guidance 7 --guidance 5|option '--guidance' (G) should be specified only once",
        "karras without karras sigmas|--karras --scheduler ddim|--karras changes the sigmas of euler, lms, dpmpp-2m;"
                + " this run's scheduler is ddim, which has none",
        "missing latents|--latents /nonexistent.npy|/nonexistent.npy: no such file",
        "unreadable image|--image NOTIMG|not a readable image",
        "missing image|--image /nonexistent.png|no such image file",
        "bad spacing|--timestep-spacing sideways|--timestep-spacing must be leading, linspace or trailing",
        "bad size pair|--original-size 12|--original-size takes two non-negative numbers",
        "latents of the wrong shape|--latents LAT|do not fit this run",
        "unknown attention kernel|--attention flash|'flash' is not an attention kernel; choose explicit or sdpa",
    })
    void generateRejects(String what, String options, String message) throws Exception {
        Path img = tmp.resolve("in.png");
        new dev.unetlens.io.RgbImage(8, 8, new byte[8 * 8 * 3]).writePng(Files.newOutputStream(img), java.util.Map.of());
        Path notImg = Files.writeString(tmp.resolve("not.png"), "hello");
        Path lat = tmp.resolve("lat.npy");
        dev.unetlens.io.Npy.write(lat, dev.unetlens.io.NpyArray.ofFloats(new long[] {1, 4, 3, 3}, new float[36]));
        List<String> args = new ArrayList<>(List.of("generate", "--model", model(), "--prompt", "a cat"));
        for (String o : options.split(" ")) {
            args.add(o.replace("NOTIMG", notImg.toString()).replace("IMG", img.toString()).replace("LAT", lat.toString()));
        }
        Path out = tmp.resolve("out");
        args.addAll(List.of("--out", out.toString()));
        CliRun r = run(args.toArray(String[]::new));
        assertThat(r.code()).as(what).isNotZero();
        assertThat(r.err()).as(what).contains(message);
        assertThat(r.err().lines().filter(l -> l.startsWith("unetlens: error:")).count()).as(what + ": one error line").isEqualTo(1);
        assertThat(out).as(what + ": nothing written").doesNotExist();
    }

    /** bench refuses an unknown kernel, a negative pair count and unknown MKL kernels in one line, before it writes or loads a model. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown kernel|--attention explicit,flash|--attention must be one of [explicit, sdpa], got 'flash'",
        "negative pairs|--attention-pairs -1|--attention-pairs must be ≥ 0",
        "unknown MKL kernels|--mkl default,avx2|--mkl must be 'default' or 'avx512', got 'avx2'",
    })
    void benchRejects(String what, String options, String message) {
        List<String> args = new ArrayList<>(List.of("bench", "--cases", "attention_kernels", "--model",
                tmp.resolve("none").toString()));
        args.addAll(Arrays.asList(options.split(" ")));
        CliRun r = run(args.toArray(String[]::new));
        assertThat(r.code()).as(what).isNotZero();
        assertThat(r.err()).as(what).contains(message);
        assertThat(r.err().lines().filter(l -> l.startsWith("unetlens: error:")).count()).as(what + ": one error line").isEqualTo(1);
        assertThat(tmp.resolve("none")).as(what + ": nothing written").doesNotExist();
    }

    /** float64 latents are converted (with a note) and give the float32 latents' image; integer latents are refused. */
    @Test
    void latentsOfOtherTypes() throws Exception {
        float[] v = new float[4 * 8 * 8];
        java.util.Random rnd = new java.util.Random(3);
        java.nio.ByteBuffer f64 = java.nio.ByteBuffer.allocate(v.length * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        java.nio.ByteBuffer i64 = java.nio.ByteBuffer.allocate(v.length * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
            f64.putDouble(i * 8, v[i]);
            i64.putLong(i * 8, i);
        }
        long[] shape = {1, 4, 8, 8};
        Path f32File = tmp.resolve("f32.npy");
        Path f64File = tmp.resolve("f64.npy");
        Path intFile = tmp.resolve("i64.npy");
        dev.unetlens.io.Npy.write(f32File, dev.unetlens.io.NpyArray.ofFloats(shape, v));
        dev.unetlens.io.Npy.write(f64File, new dev.unetlens.io.NpyArray(dev.unetlens.io.DType.F64, shape, f64));
        dev.unetlens.io.Npy.write(intFile, new dev.unetlens.io.NpyArray(dev.unetlens.io.DType.I64, shape, i64));
        List<String> base = List.of("generate", "--model", model(), "--prompt", "x", "--steps", "1", "--height", "64",
                "--width", "64", "--scheduler", "ddim", "--latents");
        CliRun a = run(with(base, f32File.toString(), "--out", tmp.resolve("a").toString()));
        CliRun b = run(with(base, f64File.toString(), "--out", tmp.resolve("b").toString()));
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(b.code()).as(b.err()).isZero();
        assertThat(a.err()).doesNotContain("note");
        assertThat(b.err()).contains("unetlens: note: " + f64File + " holds f64 latents; converted to float32");
        assertThat(Files.readAllBytes(tmp.resolve("b/latents.npy"))).isEqualTo(Files.readAllBytes(tmp.resolve("a/latents.npy")));
        CliRun c = run(with(base, intFile.toString(), "--out", tmp.resolve("c").toString()));
        assertThat(c.code()).isNotZero();
        assertThat(c.err()).contains("--latents must hold floating-point values, this file has i64");
        assertThat(tmp.resolve("c")).doesNotExist();
    }

    private static String[] with(List<String> base, String... more) {
        List<String> all = new ArrayList<>(base);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    void missingModelFailsInOneLine() {
        CliRun r = run("generate", "--model", tmp.resolve("nope").toString(), "--prompt", "x", "--out", tmp.resolve("o").toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("no such model").doesNotContain("Exception");
        assertThat(tmp.resolve("o")).doesNotExist();
    }

    @Test
    void existingOutputIsNotOverwrittenWithoutForce() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path keep = Files.writeString(out.resolve("keep.txt"), "mine");
        CliRun r = run("generate", "--model", model(), "--prompt", "x", "--steps", "1", "--out", out.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("already exists").contains("--force");
        assertThat(Files.readString(keep)).isEqualTo("mine");
        assertThat(Arrays.asList(out.toFile().list())).containsExactly("keep.txt");
        CliRun forced = run("generate", "--model", model(), "--prompt", "x", "--steps", "1", "--height", "64", "--width", "64",
                "--out", out.toString(), "--force");
        assertThat(forced.code()).isZero();
        assertThat(out.resolve("image.png")).exists();
        assertThat(Files.readString(keep)).isEqualTo("mine");
    }

    /** Errors (out of memory, stack overflow) and messages with line breaks end as one line and exit 1, too. */
    @Test
    void everyFailureIsOneLine() {
        for (Throwable t : List.of(new OutOfMemoryError("Java heap space"), new StackOverflowError(),
                new IllegalStateException("first\nsecond"), new IllegalArgumentException("x".repeat(100_000) + "\ny"))) {
            java.io.StringWriter text = new java.io.StringWriter();
            picocli.CommandLine cli = new picocli.CommandLine(new Failing(t)).setErr(new java.io.PrintWriter(text));
            assertThat(Main.execute(cli)).as(t.toString()).isEqualTo(ErrorHandler.FAILURE);
            assertThat(text.toString().lines().toList()).as(t.toString()).hasSize(1)
                    .allSatisfy(l -> assertThat(l).startsWith("unetlens: ").hasSizeLessThan(1200));
        }
    }

    /** A command that fails with the Error or unchecked exception it is given. */
    @picocli.CommandLine.Command(name = "failing")
    record Failing(Throwable failure) implements java.util.concurrent.Callable<Integer> {
        @Override
        public Integer call() {
            if (failure instanceof Error e) {
                throw e;
            }
            throw (RuntimeException) failure;
        }
    }

    /** A hostile model (an I16 weight, which aborted the JVM; a scheduler of 2³¹−1 steps) fails generate in one line. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "int16 weight|I16|wrong dtype 1:",
        "huge scheduler|SCHEDULER|num_train_timesteps must be in [2, 100000], got 2147483647",
    })
    void hostileModelsFailGenerateInOneLine(String what, String change, String message) throws Exception {
        Path copy = dev.unetlens.golden.ModelCopy.of(Golden.get().models().getFirst(), tmp.resolve("m"));
        if (change.equals("I16")) {
            Path unet = dev.unetlens.io.DiffusersFolder.open(copy).weightFile("unet", null);
            String rel = copy.relativize(unet).toString();
            dev.unetlens.golden.ModelCopy.retype(copy, rel, dev.unetlens.golden.ModelCopy.tensors(copy, rel).getFirst(),
                    dev.unetlens.io.DType.I16);
        } else {
            String cfg = Files.readString(copy.resolve("scheduler/scheduler_config.json"))
                    .replaceFirst("\"num_train_timesteps\": \\d+", "\"num_train_timesteps\": 2147483647");
            dev.unetlens.golden.ModelCopy.writeString(copy, "scheduler/scheduler_config.json", cfg);
        }
        Path out = tmp.resolve("out");
        CliRun r = run("generate", "--model", copy.toString(), "--prompt", "x", "--steps", "1", "--height", "64",
                "--width", "64", "--out", out.toString());
        assertThat(r.code()).as(what).isEqualTo(1);
        assertThat(r.err().lines().filter(l -> l.startsWith("unetlens: ")).toList()).as(what).hasSize(1)
                .allSatisfy(l -> assertThat(l).startsWith("unetlens: error: ").contains(message));
        assertThat(out).as(what + ": nothing written").doesNotExist();
    }

    @Test
    void unknownOptionIsAUsageError() {
        CliRun r = run("generate", "--bogus");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown option").contains("--help");
    }
}
