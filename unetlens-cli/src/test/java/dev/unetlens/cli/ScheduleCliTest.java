package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.golden.Golden;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.schedule.Scheduler;
import dev.unetlens.schedule.SchedulerKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code unetlens schedule}: the JSON is the scheduler's schedule (Euler with Karras sigmas, img2img from a strength),
 * the table marks skipped evaluations, --out writes the charts and schedule.json, mistakes fail in one line.
 */
class ScheduleCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static Path model() {
        return Golden.get().path("models/" + Golden.get().models().stream()
                .filter(m -> Golden.get().exists("models/" + m + "/scheduler/scheduler_config.json")).findFirst().orElseThrow());
    }

    @Test
    void jsonIsTheSchedulersSchedule() throws Exception {
        CliRun r = CliRun.of("schedule", "--model", model().toString(), "--scheduler", "euler", "--karras", "--steps", "10",
                "--strength", "0.6", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode n = JSON.readTree(r.out());
        Scheduler s = Pipeline.scheduler(JsonConfig.read(model().resolve("scheduler/scheduler_config.json")),
                new GenerationRequest.Sampler(SchedulerKind.EULER, true, null, 0), 10);
        assertThat(n.get("karras").asBoolean()).isTrue();
        assertThat(n.get("begin_index").asInt()).isEqualTo(s.beginIndexForStrength(0.6)).isEqualTo(4);
        assertThat(n.get("executed_evaluations").asInt()).isEqualTo(6);
        JsonNode rows = n.get("evaluations");
        assertThat(rows).hasSize(10);
        for (int i = 0; i < 10; i++) {
            assertThat(rows.get(i).get("timestep").asDouble()).isEqualTo(s.timesteps()[i]);
            assertThat(rows.get(i).get("sigma").asDouble()).isEqualTo(s.sigmas()[i]);
            assertThat(rows.get(i).get("executed").asBoolean()).isEqualTo(i >= 4);
        }
    }

    @Test
    void tableAndFiles() throws Exception {
        Path out = tmp.resolve("s");
        CliRun r = CliRun.of("schedule", "--model", model().toString(), "--scheduler", "pndm", "--steps", "5",
                "--strength", "0.5", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("pndm · 5 steps · 6 U-Net evaluations").contains("skip");
        JsonNode m = JSON.readTree(out.resolve("manifest.json").toFile());
        assertThat(m.get("status").asText()).isEqualTo("complete");
        List<String> files = new ArrayList<>();
        m.get("files").forEach(f -> files.add(f.get("file").asText()));
        assertThat(files).contains("schedule.json", "schedule.png", "schedule-timesteps.png", "schedule-timesteps.svg",
                "schedule-sigmas.png", "schedule-alpha-bar.png", "schedule-training-alpha-bar.png");
        JsonNode json = JSON.readTree(out.resolve("schedule.json").toFile());
        assertThat(json.get("sigma_source").asText()).isEqualTo("alphas_cumprod");
    }

    @Test
    void mistakesFailInOneLine() {
        String model = model().toString();
        assertThat(CliRun.of("schedule", "--model", model, "--scheduler", "ddim", "--karras").errorLines()).singleElement()
                .asString().contains("--karras");
        assertThat(CliRun.of("schedule", "--model", model, "--strength", "1.5").errorLines()).singleElement().asString()
                .contains("--strength must be in [0, 1], got 1.5");
        assertThat(CliRun.of("schedule", "--model", model, "--steps", "0").errorLines()).singleElement().asString()
                .contains("--steps must be in [1, 1000], got 0");
        assertThat(CliRun.of("schedule", "--model", model, "--timestep-spacing", "odd").errorLines()).singleElement()
                .asString().contains("--timestep-spacing must be leading, linspace or trailing");
        assertThat(CliRun.of("schedule", "--model", model, "--scheduler", "ddim", "--steps", "4", "--strength", "0.1").errorLines())
                .singleElement().asString().contains("leaves no step to run");
    }
}
