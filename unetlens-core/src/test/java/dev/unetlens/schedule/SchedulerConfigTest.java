package dev.unetlens.schedule;

import dev.unetlens.UnetlensException;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.schedule.SchedulerConfig.Prediction;
import dev.unetlens.schedule.SchedulerConfig.Spacing;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SchedulerConfigTest {

    private static SchedulerConfig parse(String json, SchedulerKind kind) {
        return SchedulerConfig.parse(JsonConfig.parse("scheduler_config.json", json), kind, Map.of());
    }

    @Test
    void missingKeysGetEachClassesOwnDefaults() {
        SchedulerConfig ddim = parse("{}", SchedulerKind.DDIM);
        assertThat(ddim.spacing()).isEqualTo(Spacing.LEADING);
        assertThat(ddim.alpha().clipSample()).isTrue();
        assertThat(ddim.alpha().setAlphaToOne()).isTrue();
        assertThat(ddim.noise().betaStart()).isEqualTo(0.0001);
        assertThat(ddim.noise().schedule()).isEqualTo(NoiseSchedule.BetaSchedule.LINEAR);
        assertThat(parse("{\"skip_prk_steps\": true}", SchedulerKind.PNDM).alpha().setAlphaToOne()).isFalse();
        for (SchedulerKind k : new SchedulerKind[] {SchedulerKind.EULER, SchedulerKind.EULER_ANCESTRAL,
                SchedulerKind.LMS, SchedulerKind.DPMPP_2M}) {
            SchedulerConfig c = parse("{}", k);
            assertThat(c.spacing()).as(k.cliName()).isEqualTo(Spacing.LINSPACE);
            assertThat(c.stepsOffset()).isZero();
            assertThat(c.prediction()).isEqualTo(Prediction.EPSILON);
        }
        SchedulerConfig dpm = parse("{}", SchedulerKind.DPMPP_2M);
        assertThat(dpm.dpm().solverOrder()).isEqualTo(2);
        assertThat(dpm.dpm().lowerOrderFinal()).isTrue();
        assertThat(dpm.dpm().lambdaMinClipped()).isEqualTo(Double.NEGATIVE_INFINITY);
    }

    @Test
    void aModelsConfigOfAnotherClassIsReadWithTheChosenClassesKeysAndDefaults() {
        // SD 1.5 ships a PNDMScheduler config (the bundled synthetic models carry a copy); DDIM and Euler built
        // from it take what they know
        String dir;
        try {
            dir = java.nio.file.Path.of(SchedulerConfig.class.getResource("/dev/unetlens/synth/sd15/scheduler.json").toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        SchedulerConfig own = SchedulerConfig.read(java.nio.file.Path.of(dir), null);
        assertThat(own.kind()).isEqualTo(SchedulerKind.PNDM);
        SchedulerConfig ddim = SchedulerConfig.read(java.nio.file.Path.of(dir), SchedulerKind.DDIM);
        assertThat(ddim.alpha().clipSample()).isFalse();
        assertThat(ddim.stepsOffset()).isEqualTo(1);
        assertThat(ddim.noise().schedule()).isEqualTo(NoiseSchedule.BetaSchedule.SCALED_LINEAR);
        assertThat(SchedulerConfig.read(java.nio.file.Path.of(dir), SchedulerKind.EULER).spacing()).isEqualTo(Spacing.LINSPACE);
    }

    @Test
    void keysOfOtherClassesAreIgnoredAsDiffusersIgnoresThem() {
        SchedulerConfig ddim = parse("{\"use_karras_sigmas\": true, \"solver_order\": 3, \"algorithm_type\": \"sde-dpmsolver++\"}",
                SchedulerKind.DDIM);
        assertThat(ddim.sigma().karras()).isFalse();
        assertThat(parse("{\"rescale_betas_zero_snr\": true}", SchedulerKind.LMS).noise().rescaleZeroSnr()).isFalse();
        assertThat(parse("{\"rescale_betas_zero_snr\": true}", SchedulerKind.EULER).noise().rescaleZeroSnr()).isTrue();
    }

    @Test
    void overridesActLikeFromConfigKeywordArguments() {
        SchedulerConfig c = SchedulerConfig.parse(JsonConfig.parse("cfg", "{\"timestep_spacing\": \"leading\"}"),
                SchedulerKind.EULER_ANCESTRAL, Map.of("timestep_spacing", "trailing", "steps_offset", 1));
        assertThat(c.spacing()).isEqualTo(Spacing.TRAILING);
        assertThat(c.stepsOffset()).isEqualTo(1);
        assertThat(SchedulerConfig.parse(JsonConfig.parse("cfg", "{}"), SchedulerKind.DPMPP_2M,
                Map.of("use_karras_sigmas", true)).sigma().karras()).isTrue();
    }

    @Test
    void aConfigFileAsDiffusersSavesItWithMinusInfinityIsRead(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        java.nio.file.Path f = dir.resolve("scheduler_config.json");
        java.nio.file.Files.writeString(f, "{\"_class_name\": \"DPMSolverMultistepScheduler\", \"lambda_min_clipped\": -Infinity,"
                + " \"use_karras_sigmas\": true}");
        SchedulerConfig c = SchedulerConfig.read(f, null);
        assertThat(c.kind()).isEqualTo(SchedulerKind.DPMPP_2M);
        assertThat(c.dpm().lambdaMinClipped()).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(c.sigma().karras()).isTrue();
        java.nio.file.Files.writeString(f, "{\"_class_name\": ");
        assertThatThrownBy(() -> SchedulerConfig.read(f, null)).isInstanceOf(UnetlensException.class)
                .hasMessageContaining("not valid JSON");
    }

    @Test
    void lambdaMinClippedAcceptsInfinityAsAString() {
        assertThat(parse("{\"lambda_min_clipped\": \"-inf\"}", SchedulerKind.DPMPP_2M).dpm().lambdaMinClipped())
                .isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(parse("{\"lambda_min_clipped\": -5.1}", SchedulerKind.DPMPP_2M).dpm().lambdaMinClipped()).isEqualTo(-5.1);
    }

    @Test
    void unsupportedValuesFailWithOneLineNamingTheField() {
        assertOneLineError("{\"beta_schedule\": \"sigmoid\"}", SchedulerKind.DDIM, "beta_schedule");
        assertOneLineError("{\"timestep_spacing\": \"middle\"}", SchedulerKind.EULER, "timestep_spacing");
        assertOneLineError("{\"prediction_type\": \"sample\"}", SchedulerKind.PNDM, "prediction_type");
        assertOneLineError("{\"prediction_type\": \"sample\"}", SchedulerKind.EULER_ANCESTRAL, "prediction_type");
        assertOneLineError("{}", SchedulerKind.PNDM, "skip_prk_steps");
        assertOneLineError("{\"thresholding\": true}", SchedulerKind.DDIM, "thresholding");
        assertOneLineError("{\"algorithm_type\": \"sde-dpmsolver++\"}", SchedulerKind.DPMPP_2M, "algorithm_type");
        assertOneLineError("{\"solver_order\": 3}", SchedulerKind.DPMPP_2M, "solver_order");
        assertOneLineError("{\"solver_type\": \"heun\"}", SchedulerKind.DPMPP_2M, "solver_type");
        assertOneLineError("{\"use_lu_lambdas\": true}", SchedulerKind.DPMPP_2M, "use_lu_lambdas");
        assertOneLineError("{\"variance_type\": \"learned_range\"}", SchedulerKind.DPMPP_2M, "variance_type");
        assertOneLineError("{\"interpolation_type\": \"cubic\"}", SchedulerKind.EULER, "interpolation_type");
        assertOneLineError("{\"num_train_timesteps\": \"many\"}", SchedulerKind.EULER, "num_train_timesteps");
        assertOneLineError("{\"clip_sample_range\": 0}", SchedulerKind.DDIM, "clip_sample_range");
        assertOneLineError("{\"steps_offset\": -1}", SchedulerKind.DDIM, "steps_offset");
        assertOneLineError("{\"_class_name\": \"UniPCMultistepScheduler\"}", null, "UniPCMultistepScheduler");
    }

    @Test
    void aScheduleBeyondTheTrainingTimestepsIsRefused() {
        Scheduler s = Scheduler.create(parse("{\"steps_offset\": 1}", SchedulerKind.DDIM), StepOptions.DEFAULT);
        assertThatThrownBy(() -> s.setTimesteps(1000)).isInstanceOf(UnetlensException.class)
                .hasMessage("timestep_spacing leading with steps_offset 1 and 1000 steps gives timestep 1000,"
                        + " outside [0, num_train_timesteps 1000) of scheduler_config.json");
        assertThatThrownBy(() -> s.setTimesteps(0)).isInstanceOf(UnetlensException.class)
                .hasMessage("number of inference steps must be in [1, 1000] (num_train_timesteps of"
                        + " scheduler_config.json), got 0");
    }

    /**
     * num_train_timesteps was bounded below only: 2³¹−1 ran out of memory computing the betas. Every range error of a
     * scheduler config names its file.
     */
    @Test
    void rangesAreBoundedAndNameTheFile() {
        assertThatThrownBy(() -> parse("{\"num_train_timesteps\": 2147483647}", SchedulerKind.DDIM))
                .isInstanceOf(UnetlensException.class)
                .hasMessage("scheduler_config.json: num_train_timesteps must be in [2, 100000], got 2147483647");
        assertThatThrownBy(() -> parse("{\"num_train_timesteps\": 1}", SchedulerKind.EULER))
                .hasMessage("scheduler_config.json: num_train_timesteps must be in [2, 100000], got 1");
        assertThatThrownBy(() -> parse("{\"beta_start\": 2}", SchedulerKind.EULER))
                .hasMessageStartingWith("scheduler_config.json: beta_start and beta_end must be in (0, 1)");
        assertThatThrownBy(() -> parse("{\"trained_betas\": [0.1, 0.2], \"num_train_timesteps\": 3}", SchedulerKind.DDIM))
                .hasMessageStartingWith("scheduler_config.json: trained_betas has 2 entries; it needs one per training"
                        + " timestep");
        assertThatThrownBy(() -> parse("{\"steps_offset\": 4294967297}", SchedulerKind.DDIM))
                .hasMessage("scheduler_config.json: steps_offset must be in [0, 100000], got 4294967297");
        assertThatThrownBy(() -> parse("{\"solver_order\": 3}", SchedulerKind.DPMPP_2M))
                .hasMessage("scheduler_config.json: solver_order must be in [1, 2], got 3");
    }

    @Test
    void kindsHaveOneNameEachWay() {
        for (SchedulerKind k : SchedulerKind.values()) {
            assertThat(SchedulerKind.fromCliName(k.cliName().toUpperCase())).isEqualTo(k);
            assertThat(SchedulerKind.fromDiffusersClass(k.diffusersClass())).isEqualTo(k);
        }
        assertThatThrownBy(() -> SchedulerKind.fromCliName("heun")).isInstanceOf(UnetlensException.class)
                .hasMessage("--scheduler must be one of ddim, pndm, euler, euler-a, lms, dpmpp-2m, got 'heun'");
    }

    private static void assertOneLineError(String json, SchedulerKind kind, String field) {
        assertThatThrownBy(() -> parse(json, kind)).as(json).isInstanceOf(UnetlensException.class)
                .hasMessageContaining(field).satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
}
