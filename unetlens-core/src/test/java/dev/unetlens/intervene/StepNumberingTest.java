package dev.unetlens.intervene;

import dev.unetlens.hook.Capture;
import dev.unetlens.hook.HookScope;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.pipeline.StepPlan;
import dev.unetlens.schedule.SchedulerKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --steps N} is N steps with every scheduler: PNDM's extra (warm-up) U-Net evaluation belongs to step 1,
 * captures see each step once, an edit of step 1 changes both of its evaluations, and patching replays a run
 * evaluation by evaluation.
 */
class StepNumberingTest {
    @TempDir
    static Path dir;
    static StableDiffusion sd;

    @BeforeAll
    static void load() {
        sd = Tiny.load(dir);
    }

    @AfterAll
    static void close() {
        sd.close();
    }

    private static GenerationRequest.Builder request(SchedulerKind kind, int steps) {
        return Tiny.request("a lighthouse").steps(steps).sampler(new GenerationRequest.Sampler(kind, false, null, 0));
    }

    @Test
    void pndmRunsNStepsWithOneMoreEvaluation() {
        StepPlan pndm = new Pipeline(sd).plan(request(SchedulerKind.PNDM, 20).build());
        assertThat(pndm.steps()).isEqualTo(20);
        assertThat(pndm.evaluations()).isEqualTo(21);
        double[] t = pndm.evaluationTimesteps();
        assertThat(t[1]).as("the warm-up evaluation is at the second timestep").isEqualTo(t[2]);
        assertThat(pndm.isWarmup(1)).isTrue();
        assertThat(List.of(pndm.stepOf(0), pndm.stepOf(1), pndm.stepOf(2), pndm.stepOf(20))).containsExactly(0, 0, 1, 19);
        double[] perStep = pndm.stepTimesteps();
        assertThat(perStep).hasSize(20).startsWith(t[0], t[2]).endsWith(t[20]);
        assertThat(pndm.note()).contains("20 steps make 21 U-Net evaluations");

        StepPlan ddim = new Pipeline(sd).plan(request(SchedulerKind.DDIM, 20).build());
        assertThat(List.of(ddim.steps(), ddim.evaluations())).containsExactly(20, 20);
        assertThat(ddim.note()).isEmpty();
        StepPlan one = new Pipeline(sd).plan(request(SchedulerKind.PNDM, 1).build());
        assertThat(List.of(one.steps(), one.evaluations())).containsExactly(1, 1);
    }

    @Test
    void capturesSeeEachStepOnceAndAnEditOfStepOneChangesBothItsEvaluations() {
        GenerationRequest r = request(SchedulerKind.PNDM, 4).build();
        StepPlan plan = new Pipeline(sd).plan(r);
        List<Integer> captured = new ArrayList<>();
        List<Double> timesteps = new ArrayList<>();
        List<Integer> evaluations = new ArrayList<>();
        try (HookScope scope = HookScope.open(sd.unet().hooks())) {
            scope.capture(List.of("mid_block"), Capture.Rows.ALL, c -> {
                captured.add(c.step());
                timesteps.add(c.timestep());
            });
            scope.add("mid_block", HookScope.observe((v, ctx) -> evaluations.add(ctx.step())));
            new Pipeline(sd).generate(r);
        }
        assertThat(captured).containsExactly(0, 1, 2, 3);
        assertThat(timesteps).containsExactlyElementsOf(Arrays.stream(plan.stepTimesteps()).boxed().toList());
        assertThat(evaluations).containsExactly(0, 0, 1, 2, 3);

        assertThat(zeroedEvaluations(r, "mid_block:zero@steps=1")).isEqualTo(2);
        assertThat(zeroedEvaluations(r, "mid_block:zero@steps=2")).isEqualTo(1);
        assertThat(zeroedEvaluations(r, "mid_block:zero@steps=4")).isEqualTo(1);
    }

    /** How many U-Net evaluations see mid_block zeroed with {@code edit}. */
    private static int zeroedEvaluations(GenerationRequest r, String edit) {
        int[] zeroed = {0};
        try (Intervention iv = Intervention.prepare(sd, r, List.of(Edit.parse(edit)))) {
            iv.generate(null, scope -> scope.add("mid_block", HookScope.observe((v, ctx) -> {
                if (v.abs().max().getFloat() == 0) {
                    zeroed[0]++;
                }
            })), Progress.NONE);
        }
        return zeroed[0];
    }

    /** The source recording holds the warm-up evaluation too, so a PNDM run patched from itself at step 1 is itself. */
    @Test
    void aPndmRunPatchedFromItselfAtStepOneIsItself() {
        GenerationRequest r = request(SchedulerKind.PNDM, 3).negativePrompt("blurry").build();
        GenerationResult plain = new Pipeline(sd).generate(r);
        try (Intervention iv = Intervention.prepare(sd, r, List.of(Edit.parse("mid_block:patch@steps=1")));
             Recording source = iv.recordSource(r, Progress.NONE)) {
            assertThat(source.evaluations("mid_block")).containsExactly(0, 1);
            GenerationResult patched = iv.generate(source, null, Progress.NONE);
            assertThat(patched.finalLatents().toFloats()).isEqualTo(plain.finalLatents().toFloats());
        }
    }
}
