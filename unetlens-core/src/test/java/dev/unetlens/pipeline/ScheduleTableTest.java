package dev.unetlens.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.golden.Golden;
import dev.unetlens.rng.TorchGenerator;
import dev.unetlens.schedule.Scheduler;
import dev.unetlens.schedule.SchedulerKind;
import dev.unetlens.schedule.StepOutput;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The schedule {@code unetlens schedule} shows ({@link ScheduleTable}) against the schedulers themselves, for every
 * fixture model's scheduler config, every scheduler kind, several step counts and strengths: the timesteps and (where
 * the scheduler has them) sigmas are the scheduler's own values, ᾱ is the training schedule's at the timestep (or
 * 1/(1 + σ²)), img2img's executed evaluations are exactly {@link Scheduler#timestepsForStrength}, numbered as a run
 * numbers its steps; and the x̂₀ a preview decodes for PNDM is bit for bit DDIM's formula.
 */
class ScheduleTableTest {
    private static final int[] STEPS = {1, 7, 30};
    private static final double[] STRENGTHS = {Double.NaN, 0.3, 1.0};

    private static List<Path> configs() {
        List<Path> out = new ArrayList<>();
        for (String m : Golden.get().models()) {
            Path p = Golden.get().path("models/" + m + "/scheduler/scheduler_config.json");
            if (Files.isRegularFile(p)) {
                out.add(p);
            }
        }
        assertThat(out).as("fixture models with a scheduler config").isNotEmpty();
        return out;
    }

    @TestFactory
    Stream<DynamicTest> tables() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path config : configs()) {
            for (SchedulerKind kind : SchedulerKind.values()) {
                for (int steps : STEPS) {
                    for (double strength : STRENGTHS) {
                        tests.add(DynamicTest.dynamicTest(config.getParent().getParent().getFileName() + " " + kind.cliName()
                                + " " + steps + " steps, strength " + strength, () -> check(config, kind, steps, strength)));
                    }
                }
            }
        }
        return tests.stream();
    }

    private static void check(Path config, SchedulerKind kind, int steps, double strength) {
        Scheduler s = Pipeline.scheduler(JsonConfig.read(config), new GenerationRequest.Sampler(kind, false, null, 0), steps);
        ScheduleTable t = ScheduleTable.of(s, strength);
        double[] ts = s.timesteps();
        float[] sigmas = s.sigmas();
        float[] alphaBar = s.config().noise().alphasCumprod();
        assertThat(t.rows()).hasSize(ts.length);
        assertThat(t.trainingAlphaBar()).isEqualTo(alphaBar);
        for (ScheduleTable.Row r : t.rows()) {
            assertThat(r.timestep()).isEqualTo(ts[r.index()]);
            if (sigmas.length > 0) {
                assertThat(r.sigma()).isEqualTo(sigmas[r.index()]);
                assertThat(r.alphaBar()).isEqualTo(1 / (1 + r.sigma() * r.sigma()));
            } else {
                float a = alphaBar[(int) r.timestep()];
                assertThat(r.alphaBar()).isEqualTo(a);
                assertThat(r.sigma() * r.sigma()).isCloseTo((1 - a) / a, within(1e-5 * (1 - a) / a));
            }
        }
        double[] executed = t.executed().stream().mapToDouble(ScheduleTable.Row::timestep).toArray();
        assertThat(executed).isEqualTo(Double.isNaN(strength) ? ts : s.timestepsForStrength(strength));
        StepPlan plan = new StepPlan(executed, s.redoesFirstStep() && executed.length > 1 ? 1 : -1);
        int[] numbered = t.executed().stream().mapToInt(ScheduleTable.Row::step).toArray();
        for (int e = 0; e < numbered.length; e++) {
            assertThat(numbered[e]).isEqualTo(plan.stepOf(e) + 1);
        }
        assertThat(t.rows().subList(0, t.begin())).allMatch(r -> !r.executed());
    }

    @TestFactory
    Stream<DynamicTest> predictedOriginalIsDdims() {
        return Stream.of("epsilon", "v_prediction", "sample").map(prediction -> DynamicTest.dynamicTest(prediction, () -> {
            Path config = configs().getFirst();
            JsonConfig json = dev.unetlens.schedule.SchedulerConfig.withOverrides(JsonConfig.read(config),
                    Map.of("prediction_type", prediction, "clip_sample", false));
            Scheduler ddim = Pipeline.scheduler(json, new GenerationRequest.Sampler(SchedulerKind.DDIM, false, null, 0), 10);
            try (NDManager m = NDManager.newBaseManager()) {
                TorchGenerator g = new TorchGenerator(3);
                for (int i = 0; i < ddim.timesteps().length; i++) {
                    NDArray x = g.randn(m, new Shape(1, 4, 6, 5));
                    NDArray out = g.randn(m, new Shape(1, 4, 6, 5));
                    StepOutput step = ddim.step(out, i, x, null);
                    assertThat(Pipeline.predictedOriginal(ddim, i, x, out).toFloatArray()).as("step " + i)
                            .isEqualTo(step.predOriginalSample().toFloatArray());
                }
            }
        }));
    }
}
