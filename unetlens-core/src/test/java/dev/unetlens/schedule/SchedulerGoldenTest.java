package dev.unetlens.schedule;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.golden.Close;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.DType;
import dev.unetlens.io.NpyArray;
import dev.unetlens.model.Tensors;
import dev.unetlens.rng.NoiseSource;
import dev.unetlens.rng.TorchGenerator;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.unetlens.golden.Close.assertCloseToMagnitude;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The scheduler fixtures of golden README §6, data-driven: every run directory under {@code schedulers/<prediction>/}
 * (found through its {@code meta.json} in the index) is replayed with the scheduler named by the meta's class and
 * its resolved config, and every array the reference recorded is compared; then the shared noise-schedule files.
 */
class SchedulerGoldenTest {
    /** README §9: schedulers agree to 1e-5 of each array's largest magnitude (here: of each step's slice). */
    static final double REL_TOL = 1e-5;
    /** σ, β, ᾱ tables: element-wise relative tolerance (they are float32 computations of the same formulas). */
    static final double TABLE_RTOL = 1e-6;

    @TestFactory
    Stream<DynamicTest> everySchedulerFixture() {
        Golden g = Golden.get();
        List<DynamicTest> tests = new ArrayList<>();
        List<String> runs = g.runs("schedulers", "meta.json");
        assertThat(runs).as("scheduler runs in the index").isNotEmpty();
        for (String run : runs) {
            tests.add(DynamicTest.dynamicTest(run, () -> replay(g, run)));
        }
        List<String> predictionDirs = runs.stream().map(r -> r.substring(0, r.lastIndexOf('/'))).distinct().toList();
        for (String dir : predictionDirs) {
            String anyRun = runs.stream().filter(r -> r.startsWith(dir + "/")).findFirst().orElseThrow();
            tests.add(DynamicTest.dynamicTest(dir + " noise schedule and DDPM add_noise", () -> noiseSchedule(g, dir, anyRun)));
        }
        tests.add(DynamicTest.dynamicTest("every scheduler fixture was checked",
                () -> assertThat(g.unread("schedulers", null)).isEmpty()));
        return tests.stream();
    }

    static SchedulerConfig configOf(JsonNode node, SchedulerKind kind, String where) {
        return SchedulerConfig.parse(new JsonConfig(where, (ObjectNode) node), kind, Map.of());
    }

    private static void replay(Golden g, String run) {
        JsonNode meta = g.json(run + "/meta.json");
        SchedulerKind kind = SchedulerKind.fromDiffusersClass(meta.get("scheduler").asText());
        Scheduler s = kind.create(configOf(meta.get("config"), kind, run + "/meta.json"), stepOptions(meta.get("step_kwargs")));
        int n = meta.get("num_inference_steps").asInt();
        s.setTimesteps(n);
        assertTimesteps(run + "/timesteps", s.timesteps(), g.npy(run + "/timesteps.npy"), 0);
        assertThat(s.initNoiseSigma()).as(run + " init_noise_sigma").isEqualTo((float) meta.get("init_noise_sigma").asDouble());
        if (g.exists(run + "/sigmas.npy")) {
            Close.assertClose(run + "/sigmas", s.sigmas(), g.npy(run + "/sigmas.npy").toFloats(), 0, TABLE_RTOL);
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Loop loop = new Loop(g, run, m);
            NDArray sample = Tensors.fromNpy(m, g.npy("schedulers/x0.npy")).mul(s.initNoiseSigma());
            NDArray f = Tensors.fromNpy(m, g.npy("schedulers/fixed_noise.npy"));
            loop.check("sample_init", -1, sample);
            NoiseSource noise = loop.stepNoise();
            double[] ts = s.timesteps();
            for (int i = 0; i < ts.length; i++) {
                NDArray inp = s.scaleModelInput(sample, i);
                NDArray modelOutput = inp.mul(0.1f).add(f);
                StepOutput out = s.step(modelOutput, i, sample, noise);
                loop.check("scaled_inputs", i, inp);
                loop.check("model_outputs", i, modelOutput);
                loop.check("prev_samples", i, out.prevSample());
                if (g.exists(run + "/pred_original_samples.npy")) {
                    assertThat(out.predOriginalSample()).as(run + " returns pred_original_sample").isNotNull();
                    loop.check("pred_original_samples", i, out.predOriginalSample());
                }
                sample = out.prevSample();
            }
            loop.assertStepNoiseIsTheGenerators(meta);
        }
    }

    /** diffusers step kwargs ({@code eta}, {@code s_churn}, ...) as {@link StepOptions}. */
    static StepOptions stepOptions(JsonNode kwargs) {
        StepOptions o = StepOptions.DEFAULT;
        if (kwargs == null) {
            return o;
        }
        o = o.withEta(kwargs.path("eta").asDouble(o.eta()));
        return o.withChurn(kwargs.path("s_churn").asDouble(o.sChurn()), kwargs.path("s_tmin").asDouble(o.sTmin()),
                kwargs.path("s_tmax").asDouble(o.sTmax()), kwargs.path("s_noise").asDouble(o.sNoise()));
    }

    /** Timesteps: int64 fixtures exactly; float fixtures to {@code rtol} (0: exactly, as float32). */
    static void assertTimesteps(String what, double[] actual, NpyArray expected, double rtol) {
        if (expected.dtype() == DType.I64) {
            long[] a = Arrays.stream(actual).mapToLong(v -> {
                assertThat(v).as(what + " integer-valued").isEqualTo(Math.rint(v));
                return (long) v;
            }).toArray();
            Close.assertExactly(what, new long[] {a.length}, a, expected);
        } else {
            float[] a = new float[actual.length];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) actual[i];
            }
            assertThat(new long[] {a.length}).as(what + " shape").containsExactly(expected.shape());
            Close.assertClose(what, a, expected.toFloats(), 0, rtol);
        }
    }

    private static void noiseSchedule(Golden g, String dir, String anyRun) {
        JsonNode meta = g.json(anyRun + "/meta.json");
        NoiseSchedule noise = configOf(meta.get("config"),
                SchedulerKind.fromDiffusersClass(meta.get("scheduler").asText()), anyRun).noise();
        Close.assertClose(dir + "/betas", noise.betas(), g.npy(dir + "/betas.npy").toFloats(), 0, TABLE_RTOL);
        Close.assertClose(dir + "/alphas_cumprod", noise.alphasCumprod(), g.npy(dir + "/alphas_cumprod.npy").toFloats(),
                0, TABLE_RTOL);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x0 = Tensors.fromNpy(m, g.npy(dir + "/add_noise_original.npy"));
            NDArray eps = Tensors.fromNpy(m, g.npy(dir + "/add_noise_noise.npy"));
            long[] t = g.npy(dir + "/add_noise_timesteps.npy").toLongs();
            NDArray noisy = noise.addNoise(x0, eps, t);
            assertCloseToMagnitude(dir + "/add_noise_out", noisy.getShape().getShape(), noisy.toFloatArray(),
                    g.npy(dir + "/add_noise_out.npy"), REL_TOL);
            NDArray v = noise.velocity(x0, eps, t);
            assertCloseToMagnitude(dir + "/get_velocity_out", v.getShape().getShape(), v.toFloatArray(),
                    g.npy(dir + "/get_velocity_out.npy"), REL_TOL);
        }
    }

    /** The per-step arrays of one run: each step's slice compared to the fixture's slice. */
    private static final class Loop {
        private final Golden g;
        private final String run;
        private final NDManager m;
        private final NpyArray recordedNoise;

        Loop(Golden g, String run, NDManager m) {
            this.g = g;
            this.run = run;
            this.m = m;
            this.recordedNoise = g.exists(run + "/step_noise.npy") ? g.npy(run + "/step_noise.npy") : null;
        }

        void check(String name, int step, NDArray actual) {
            NpyArray all = g.npy(run + "/" + name + ".npy");
            NpyArray expected = step < 0 ? all : slice(all, step);
            assertCloseToMagnitude(run + "/" + name + (step < 0 ? "" : "[" + step + "]"),
                    actual.getShape().getShape(), actual.toFloatArray(), expected, REL_TOL);
        }

        /** The recorded step noise in order (README §6: the exact tensors the steps used), else a generator. */
        NoiseSource stepNoise() {
            if (recordedNoise == null) {
                return new TorchGenerator(0);
            }
            int[] next = {0};
            return (manager, shape) -> {
                NpyArray slice = slice(recordedNoise, next[0]++);
                assertThat(new Shape(slice.shape())).as(run + " step noise shape").isEqualTo(shape);
                return Tensors.fromNpy(manager, slice);
            };
        }

        /** The recorded noise is exactly what {@code torch.Generator().manual_seed(seed)} gives, one draw per step. */
        void assertStepNoiseIsTheGenerators(JsonNode meta) {
            if (recordedNoise == null) {
                return;
            }
            String note = meta.path("noise").asText();
            long seed = Long.parseLong(note.replaceAll(".*manual_seed\\((\\d+)\\).*", "$1"));
            TorchGenerator gen = new TorchGenerator(seed);
            long steps = recordedNoise.shape()[0];
            for (int i = 0; i < steps; i++) {
                NpyArray slice = slice(recordedNoise, i);
                dev.unetlens.rng.TorchGeneratorGoldenTest.assertBitExact(run + "/step_noise[" + i + "] from seed " + seed,
                        gen.randn(slice.shape()), slice.toFloats());
            }
        }
    }

    /** Row {@code i} of a stacked array. */
    static NpyArray slice(NpyArray a, int i) {
        long[] shape = a.shape();
        long[] rest = Arrays.copyOfRange(shape, 1, shape.length);
        int rowBytes = Math.toIntExact(NpyArray.elementCount(rest) * a.dtype().size());
        return new NpyArray(a.dtype(), rest, a.data().slice(i * rowBytes, rowBytes));
    }
}
