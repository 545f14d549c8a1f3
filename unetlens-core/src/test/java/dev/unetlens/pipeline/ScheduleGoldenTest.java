package dev.unetlens.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.golden.Close;
import dev.unetlens.golden.Golden;
import dev.unetlens.schedule.Scheduler;
import dev.unetlens.schedule.SchedulerConfig;
import dev.unetlens.schedule.SchedulerKind;
import dev.unetlens.schedule.StepOptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@code unetlens schedule} prints against the scheduler fixtures (golden README §6): for every run directory,
 * the table's timesteps are {@code timesteps.npy} exactly, its σ are {@code sigmas.npy} (without the final 0) where the
 * scheduler has sigmas, its ᾱ are {@code alphas_cumprod.npy} at the timestep where it has none, the training schedule
 * is {@code alphas_cumprod.npy}, and the initial noise σ is the meta's. Tolerance: README §9's σ/ᾱ tables, rtol 1e-6.
 */
class ScheduleGoldenTest {
    private static final double TABLE_RTOL = 1e-6;

    @TestFactory
    Stream<DynamicTest> everySchedulerFixture() {
        Golden g = Golden.get();
        return g.perRun("schedulers", "meta.json", run -> check(g, run));
    }

    private static void check(Golden g, String run) {
        JsonNode meta = g.json(run + "/meta.json");
        SchedulerKind kind = SchedulerKind.fromDiffusersClass(meta.get("scheduler").asText());
        SchedulerConfig config = SchedulerConfig.parse(new JsonConfig(run + "/meta.json", (ObjectNode) meta.get("config")),
                kind, Map.of());
        Scheduler s = kind.create(config, StepOptions.DEFAULT);
        s.setTimesteps(meta.get("num_inference_steps").asInt());
        ScheduleTable t = ScheduleTable.of(s, Double.NaN);
        String dir = run.substring(0, run.lastIndexOf('/'));
        float[] alphaBar = g.npy(dir + "/alphas_cumprod.npy").toFloats();
        Close.assertClose(dir + "/alphas_cumprod", t.trainingAlphaBar(), alphaBar, 0, TABLE_RTOL);
        double[] timesteps = g.npy(run + "/timesteps.npy").toDoubles();
        assertThat(t.rows()).hasSize(timesteps.length);
        assertThat(t.initNoiseSigma()).isEqualTo((float) meta.get("init_noise_sigma").asDouble());
        float[] sigmas = g.exists(run + "/sigmas.npy") ? g.npy(run + "/sigmas.npy").toFloats() : null;
        for (ScheduleTable.Row r : t.rows()) {
            assertThat(r.timestep()).as(run + " timestep " + r.index()).isEqualTo(timesteps[r.index()]);
            assertThat(r.executed()).isTrue();
            if (sigmas != null) {
                assertThat(t.sigmaSource()).isEqualTo("scheduler");
                assertThat(r.sigma()).as(run + " sigma " + r.index())
                        .isCloseTo(sigmas[r.index()], org.assertj.core.api.Assertions.within(TABLE_RTOL * sigmas[r.index()]));
            } else {
                assertThat(t.sigmaSource()).isEqualTo("alphas_cumprod");
                assertThat(r.alphaBar()).as(run + " alpha-bar " + r.index()).isEqualTo(alphaBar[(int) timesteps[r.index()]]);
            }
        }
    }
}
