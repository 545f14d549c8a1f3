package dev.unetlens.schedule;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.rng.NoiseSource;
import dev.unetlens.rng.TorchGenerator;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Behaviour the golden runs do not pin down: options, draw counts, step order, img2img entry, memory scoping. */
class SchedulerBehaviourTest {
    /** Stable Diffusion 1.x's scheduler settings. */
    private static final String SD = "{\"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085, \"beta_end\": 0.012,"
            + " \"clip_sample\": false, \"set_alpha_to_one\": false, \"steps_offset\": 1, \"skip_prk_steps\": true}";
    private static final Shape LATENT = new Shape(1, 4, 8, 8);

    static Scheduler scheduler(SchedulerKind kind, StepOptions options, Map<String, ?> overrides, int steps) {
        Scheduler s = Scheduler.create(SchedulerConfig.parse(JsonConfig.parse("sd", SD), kind, overrides), options);
        s.setTimesteps(steps);
        return s;
    }

    private static long[] longs(double[] d) {
        return java.util.Arrays.stream(d).mapToLong(v -> (long) v).toArray();
    }

    @Test
    void timestepSpacings() {
        assertThat(longs(scheduler(SchedulerKind.DDIM, StepOptions.DEFAULT, Map.of("timestep_spacing", "linspace"), 10)
                .timesteps())).containsExactly(999, 888, 777, 666, 555, 444, 333, 222, 111, 0);
        assertThat(longs(scheduler(SchedulerKind.DDIM, StepOptions.DEFAULT, Map.of("timestep_spacing", "trailing"), 10)
                .timesteps())).containsExactly(999, 899, 799, 699, 599, 499, 399, 299, 199, 99);
        assertThat(longs(scheduler(SchedulerKind.PNDM, StepOptions.DEFAULT, Map.of("timestep_spacing", "trailing"), 4)
                .timesteps())).containsExactly(999, 749, 749, 499, 249);
        assertThat(scheduler(SchedulerKind.PNDM, StepOptions.DEFAULT, Map.of(), 1).timesteps()).containsExactly(1);
        assertThat(longs(scheduler(SchedulerKind.DPMPP_2M, StepOptions.DEFAULT, Map.of("timestep_spacing", "leading"), 10)
                .timesteps())).containsExactly(901, 811, 721, 631, 541, 451, 361, 271, 181, 91);
        assertThat(longs(scheduler(SchedulerKind.DPMPP_2M, StepOptions.DEFAULT, Map.of("timestep_spacing", "trailing"), 4)
                .timesteps())).containsExactly(999, 749, 499, 249);
        assertThat(scheduler(SchedulerKind.EULER, StepOptions.DEFAULT, Map.of(), 3).timesteps()).containsExactly(999, 499.5, 0);
    }

    @Test
    void karrasSigmasRunFromSigmaMaxToSigmaMinWithTimestepsRecoveredFromThem() {
        for (SchedulerKind k : new SchedulerKind[] {SchedulerKind.EULER, SchedulerKind.LMS}) {
            Scheduler plain = scheduler(k, StepOptions.DEFAULT, Map.of(), 8);
            Scheduler karras = scheduler(k, StepOptions.DEFAULT, Map.of("use_karras_sigmas", true), 8);
            float[] s = karras.sigmas();
            assertThat(s).hasSize(9);
            assertThat(s[0]).isEqualTo(plain.sigmas()[0]);
            assertThat(s[7]).isEqualTo(plain.sigmas()[7]);
            assertThat(s[8]).isZero();
            for (int i = 1; i < 8; i++) {
                assertThat(s[i]).isLessThan(s[i - 1]);
            }
            double[] t = karras.timesteps();
            assertThat(t[0]).isCloseTo(999, org.assertj.core.data.Offset.offset(1e-3));
            assertThat(t[7]).isCloseTo(0, org.assertj.core.data.Offset.offset(1e-3));
            assertThat(t[3] % 1).as("fractional timesteps").isNotZero();
        }
    }

    @Test
    void eulerOptionsThatChangeTheSchedule() {
        Scheduler logLinear = scheduler(SchedulerKind.EULER, StepOptions.DEFAULT, Map.of("interpolation_type", "log_linear"), 5);
        assertThat(logLinear.sigmas()).hasSize(7);   // diffusers: N + 1 log-spaced σ's, then 0
        Scheduler continuous = scheduler(SchedulerKind.EULER, StepOptions.DEFAULT,
                Map.of("timestep_type", "continuous", "prediction_type", "v_prediction"), 5);
        assertThat(continuous.timesteps()[0]).isEqualTo(0.25f * (float) Math.log(continuous.sigmas()[0]));
        Scheduler zeroSnr = scheduler(SchedulerKind.EULER, StepOptions.DEFAULT, Map.of("rescale_betas_zero_snr", true,
                "timestep_spacing", "trailing"), 4);
        assertThat(zeroSnr.sigmas()[0]).isCloseTo(4096f, org.assertj.core.data.Offset.offset(1f));
        assertThat(zeroSnr.initNoiseSigma()).isEqualTo(zeroSnr.sigmas()[0]);
        assertThat(scheduler(SchedulerKind.EULER, StepOptions.DEFAULT, Map.of("timestep_spacing", "leading"), 4)
                .initNoiseSigma()).isGreaterThan(scheduler(SchedulerKind.EULER, StepOptions.DEFAULT,
                Map.of("timestep_spacing", "leading"), 4).sigmas()[0]);
    }

    @Test
    void img2imgStartsAtTheDiffusersIndex() {
        Scheduler s = scheduler(SchedulerKind.DDIM, StepOptions.DEFAULT, Map.of(), 10);
        assertThat(s.beginIndexForStrength(0.6)).isEqualTo(4);
        assertThat(s.beginIndexForStrength(1.0)).isZero();
        assertThat(s.beginIndexForStrength(0.0)).isEqualTo(10);
        assertThat(scheduler(SchedulerKind.EULER_ANCESTRAL, StepOptions.DEFAULT, Map.of(), 2).beginIndexForStrength(0.5))
                .isEqualTo(1);
        assertThatThrownBy(() -> s.beginIndexForStrength(1.5)).isInstanceOf(UnetlensException.class)
                .hasMessage("strength must be in [0, 1], got 1.5");
    }

    @Test
    void ddimWithEtaAddsSigmaTimesOneFreshDrawToTheEq12Mean() {
        try (NDManager m = NDManager.newBaseManager()) {
            Scheduler s = scheduler(SchedulerKind.DDIM, StepOptions.DEFAULT.withEta(1.0), Map.of(), 10);
            NDArray x = new TorchGenerator(1).randn(m, LATENT);
            NDArray eps = new TorchGenerator(2).randn(m, LATENT);
            TorchGenerator gen = new TorchGenerator(7);
            TorchGenerator twin = gen.copy();
            NDArray prev = s.step(eps, 3, x, gen).prevSample();
            float[] z = twin.randn(LATENT.getShape());
            assertThat(gen.randn(3)).as("exactly one draw").containsExactly(twin.randn(3));
            float[] acp = s.config().noise().alphasCumprod();
            double at = acp[601];
            double ap = acp[501];
            double sigma = Math.sqrt((1 - ap) / (1 - at) * (1 - at / ap));    // eq. 16, η = 1
            float[] xs = x.toFloatArray();
            float[] es = eps.toFloatArray();
            float[] expected = new float[xs.length];
            for (int i = 0; i < xs.length; i++) {
                double x0 = (xs[i] - Math.sqrt(1 - at) * es[i]) / Math.sqrt(at);
                expected[i] = (float) (Math.sqrt(ap) * x0 + Math.sqrt(1 - ap - sigma * sigma) * es[i] + sigma * z[i]);
            }
            dev.unetlens.golden.Close.assertClose("DDIM η=1", prev.toFloatArray(), expected, 1e-5, 1e-5);
        }
    }

    @Test
    void eulerDrawsOneTensorEveryStepAndChurnUsesIt() {
        try (NDManager m = NDManager.newBaseManager()) {
            int[] draws = {0};
            TorchGenerator gen = new TorchGenerator(5);
            NoiseSource counting = (mm, shape) -> {
                draws[0]++;
                return gen.randn(mm, shape);
            };
            Scheduler plain = scheduler(SchedulerKind.EULER, StepOptions.DEFAULT, Map.of(), 6);
            NDArray x = new TorchGenerator(1).randn(m, LATENT).mul(plain.initNoiseSigma());
            for (int i = 0; i < 6; i++) {
                x = plain.step(plain.scaleModelInput(x, i).mul(0.1f), i, x, counting).prevSample();
            }
            assertThat(draws[0]).isEqualTo(6);

            Scheduler churn = scheduler(SchedulerKind.EULER, StepOptions.DEFAULT.withChurn(1.0, 0, 1e9, 1.0), Map.of(), 10);
            NDArray sample = new TorchGenerator(1).randn(m, LATENT);
            NDArray eps = new TorchGenerator(2).randn(m, LATENT);
            TorchGenerator noise = new TorchGenerator(3);
            float[] z = noise.copy().randn(LATENT.getShape());
            NDArray prev = churn.step(eps, 2, sample, noise).prevSample();
            double sigma = churn.sigmas()[2];
            double next = churn.sigmas()[3];
            double hat = sigma * 1.1;                          // γ = min(1/10, √2 − 1)
            float[] xs = sample.toFloatArray();
            float[] es = eps.toFloatArray();
            float[] expected = new float[xs.length];
            for (int i = 0; i < xs.length; i++) {
                double xh = xs[i] + Math.sqrt(hat * hat - sigma * sigma) * z[i];
                double x0 = xh - hat * es[i];
                expected[i] = (float) (xh + (next - hat) * (xh - x0) / hat);
            }
            dev.unetlens.golden.Close.assertClose("Euler churn", prev.toFloatArray(), expected, 1e-4, 1e-5);
        }
    }

    @Test
    void stochasticStepsRefuseToRunWithoutANoiseSource() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.zeros(LATENT);
            for (SchedulerKind k : new SchedulerKind[] {SchedulerKind.EULER, SchedulerKind.EULER_ANCESTRAL}) {
                Scheduler s = scheduler(k, StepOptions.DEFAULT, Map.of(), 4);
                assertThatThrownBy(() -> s.step(x, 0, x, null)).isInstanceOf(UnetlensException.class)
                        .hasMessageContaining("generator");
            }
        }
    }

    @Test
    void theLastAncestralStepLandsOnTheDenoisedEstimate() {
        try (NDManager m = NDManager.newBaseManager()) {
            Scheduler s = scheduler(SchedulerKind.EULER_ANCESTRAL, StepOptions.DEFAULT, Map.of("timestep_spacing", "trailing"), 1);
            NDArray x = new TorchGenerator(1).randn(m, LATENT).mul(s.initNoiseSigma());
            StepOutput out = s.step(new TorchGenerator(2).randn(m, LATENT), 0, x, new TorchGenerator(3));
            dev.unetlens.golden.Close.assertClose("x_0 = x̂₀", out.prevSample().toFloatArray(),
                    out.predOriginalSample().toFloatArray(), 1e-5, 1e-6);
        }
    }

    @Test
    void multistepSchedulersMustBeSteppedInOrderAndResetStartsOver() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = new TorchGenerator(1).randn(m, LATENT);
            for (SchedulerKind k : new SchedulerKind[] {SchedulerKind.PNDM, SchedulerKind.LMS, SchedulerKind.DPMPP_2M}) {
                Scheduler s = scheduler(k, StepOptions.DEFAULT, Map.of(), 5);
                s.step(x, 0, x, null);
                assertThatThrownBy(() -> s.step(x, 2, x, null)).isInstanceOf(UnetlensException.class)
                        .hasMessageContaining("in order");
                s.reset();
                assertThat(s.step(x, 0, x, null).prevSample().getShape()).isEqualTo(LATENT);
            }
            assertThatThrownBy(() -> Scheduler.create(SchedulerConfig.parse(JsonConfig.parse("sd", SD), SchedulerKind.DDIM,
                    Map.of()), StepOptions.DEFAULT).timesteps()).isInstanceOf(UnetlensException.class)
                    .hasMessageContaining("setTimesteps");
        }
    }

    /**
     * A pipeline wraps each step in a scope that frees what the step made; the schedulers' history must survive
     * that, and a copy must run the same from a clean state.
     */
    @Test
    void historySurvivesPerStepScopesAndCopiesRunIdentically() {
        for (SchedulerKind k : SchedulerKind.values()) {
            try (NDManager m = NDManager.newBaseManager()) {
                Scheduler s = scheduler(k, StepOptions.DEFAULT.withEta(0.5), Map.of(), 6);
                float[] scoped = run(s, m, true);
                float[] again = run(s.copy(), m, false);
                assertThat(again).as(k.cliName()).containsExactly(scoped);
            }
        }
    }

    private static float[] run(Scheduler s, NDManager m, boolean scoped) {
        TorchGenerator gen = new TorchGenerator(11);
        NDArray f = new TorchGenerator(101).randn(m, LATENT);
        NDArray x = ForwardScope.detach(new TorchGenerator(100).randn(m, LATENT).mul(s.initNoiseSigma()));
        double[] t = s.timesteps();
        for (int i = 0; i < t.length; i++) {
            if (scoped) {
                try (ForwardScope scope = new ForwardScope()) {
                    x = ForwardScope.detach(scope.keep(step(s, i, x, f, gen)));
                }
            } else {
                x = step(s, i, x, f, gen);
            }
        }
        return x.toFloatArray();
    }

    private static NDArray step(Scheduler s, int i, NDArray x, NDArray f, TorchGenerator gen) {
        NDArray modelOutput = s.scaleModelInput(x, i).mul(0.1f).add(f);
        return s.step(modelOutput, i, x, gen).prevSample();
    }

    @Test
    void eachSchedulersAddNoise() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x0 = new TorchGenerator(1).randn(m, LATENT);
            NDArray eps = new TorchGenerator(2).randn(m, LATENT);
            Scheduler euler = scheduler(SchedulerKind.EULER, StepOptions.DEFAULT, Map.of("timestep_spacing", "leading"), 10);
            float sigma = euler.sigmas()[4];
            assertThat(euler.addNoise(x0, eps, 4).toFloatArray()).containsExactly(x0.add(eps.mul(sigma)).toFloatArray());
            Scheduler ddim = scheduler(SchedulerKind.DDIM, StepOptions.DEFAULT, Map.of(), 10);
            assertThat(ddim.addNoise(x0, eps, 4).toFloatArray())
                    .containsExactly(ddim.config().noise().addNoise(x0, eps, 501).toFloatArray());
            Scheduler dpm = scheduler(SchedulerKind.DPMPP_2M, StepOptions.DEFAULT, Map.of(), 10);
            float s = dpm.sigmas()[2];
            float alpha = 1f / (float) Math.sqrt(s * s + 1f);
            assertThat(dpm.addNoise(x0, eps, 2).toFloatArray())
                    .containsExactly(x0.mul(alpha).add(eps.mul(s * alpha)).toFloatArray());
        }
    }
}
