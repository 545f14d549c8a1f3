package dev.unetlens.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.golden.Close;
import dev.unetlens.golden.Golden;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The schedules of the recorded pipeline runs (golden README §7, §14): for every {@code cases/<model>/pipeline/<run>/}
 * with a {@code timesteps.npy}, the scheduler class and config of its {@code meta.json} must give the executed
 * timesteps (from the img2img start index where a strength is set), the full σ schedule where recorded, and the
 * recorded {@code init_noise_sigma}. The pipelines themselves are tested elsewhere.
 */
class PipelineScheduleGoldenTest {

    @TestFactory
    Stream<DynamicTest> everyPipelineSchedule() {
        Golden g = Golden.get();
        return g.perRun("pipeline", "timesteps.npy", run -> check(g, run));
    }

    private static void check(Golden g, String run) {
        JsonNode meta = g.json(run + "/meta.json");
        SchedulerKind kind = SchedulerKind.fromDiffusersClass(meta.get("scheduler").asText());
        Scheduler s = kind.create(SchedulerGoldenTest.configOf(meta.get("scheduler_config"), kind, run + "/meta.json"),
                StepOptions.DEFAULT);
        s.setTimesteps(meta.get("num_inference_steps").asInt());
        double[] executed = meta.has("strength") ? s.timestepsForStrength(meta.get("strength").asDouble()) : s.timesteps();
        SchedulerGoldenTest.assertTimesteps(run + "/timesteps", executed, g.npy(run + "/timesteps.npy"), 0);
        if (g.exists(run + "/sigmas.npy")) {
            Close.assertClose(run + "/sigmas", s.sigmas(), g.npy(run + "/sigmas.npy").toFloats(), 0,
                    SchedulerGoldenTest.TABLE_RTOL);
        }
        if (meta.has("init_noise_sigma")) {
            assertThat(s.initNoiseSigma()).as(run + " init_noise_sigma")
                    .isEqualTo((float) meta.get("init_noise_sigma").asDouble());
        }
    }
}
