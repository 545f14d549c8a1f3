package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.UNetConfig.ActFn;
import dev.unetlens.model.ForwardScope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The U-Net's pieces the golden fixtures do not pin down: the activations other than SiLU, the sinusoid with
 * flip_sin_to_cos false / a frequency shift / an odd width / fractional timesteps, the config fields that must
 * (or, as in diffusers, must not) change the output, input errors, and native memory staying flat.
 */
class UNetModelTest {
    private static final NDManager M = GoldenUNets.MANAGER.newSubManager();
    private static final float[] XS = {-30f, -8f, -3.5f, -1f, -0.25f, 0f, 1e-3f, 0.5f, 2f, 6f, 25f};

    @AfterAll
    static void close() {
        M.close();
    }

    @Test
    void activationsMatchTheirTorchDefinitions() {
        NDArray x = M.create(XS);
        float[] silu = Nonlinearity.function(ActFn.SILU).apply(x).toFloatArray();
        float[] mish = Nonlinearity.function(ActFn.MISH).apply(x).toFloatArray();
        float[] gelu = Nonlinearity.function(ActFn.GELU).apply(x).toFloatArray();
        float[] relu = Nonlinearity.function(ActFn.RELU).apply(x).toFloatArray();
        for (int i = 0; i < XS.length; i++) {
            double v = XS[i];
            assertThat((double) silu[i]).as("silu(" + v + ")").isCloseTo(v / (1 + Math.exp(-v)), within(v));
            assertThat((double) mish[i]).as("mish(" + v + ")").isCloseTo(v * Math.tanh(Math.log1p(Math.exp(v))), within(v));
            assertThat((double) gelu[i]).as("gelu(" + v + ")").isCloseTo(0.5 * v * (1 + erf(v / Math.sqrt(2))), within(v));
            assertThat((double) relu[i]).as("relu(" + v + ")").isEqualTo(Math.max(v, 0));
        }
    }

    private static org.assertj.core.data.Offset<Double> within(double v) {
        return org.assertj.core.data.Offset.offset(1e-6 * Math.max(1, Math.abs(v)));
    }

    /** erf to 1e-15 by its Taylor series (|x| ≤ 3) or 1 − erfc's continued fraction. */
    private static double erf(double x) {
        if (Math.abs(x) > 3) {
            double ax = Math.abs(x);
            double f = 0;
            for (int k = 60; k >= 1; k--) {
                f = k / 2.0 / (ax + f);
            }
            double erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
            return Math.signum(x) * (1 - erfc);
        }
        double sum = 0;
        double term = x;
        for (int n = 0; n < 200; n++) {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    /**
     * diffusers' get_timestep_embedding in float32 steps (f_k = exp(fl(−ln 10⁴)·k / (half − shift)), t·f_k,
     * sin / cos), here with sin first, shift 1, an odd width (zero column) and fractional timesteps.
     */
    @Test
    void timestepsFollowGetTimestepEmbedding() {
        for (boolean flip : new boolean[] {false, true}) {
            int dim = 9;
            double shift = 1;
            float[] t = {0f, 1.5f, 261.25f, 999f};
            Timesteps proj = new Timesteps("time_proj", dim, flip, shift);
            float[] actual = proj.forward(M.create(t)).toFloatArray();
            int half = dim / 2;
            for (int r = 0; r < t.length; r++) {
                for (int k = 0; k < half; k++) {
                    float exponent = (float) -Math.log(10000) * k / (float) (half - shift);
                    float f = (float) Math.exp(exponent);
                    float arg = t[r] * f;
                    double sin = Math.sin(arg);
                    double cos = Math.cos(arg);
                    int sinAt = r * dim + (flip ? half : 0) + k;
                    int cosAt = r * dim + (flip ? 0 : half) + k;
                    assertThat((double) actual[sinAt]).as("sin t=" + t[r] + " k=" + k).isCloseTo(sin, org.assertj.core.data.Offset.offset(2e-6));
                    assertThat((double) actual[cosAt]).as("cos t=" + t[r] + " k=" + k).isCloseTo(cos, org.assertj.core.data.Offset.offset(2e-6));
                }
                assertThat(actual[r * dim + dim - 1]).as("zero pad").isZero();
            }
        }
    }

    /** diffusers passes resnet_out_scale_factor / resnet_skip_time_act only to other block types: no effect here. */
    @Test
    void fieldsDiffusersIgnoresForTheseBlocksChangeNothing() {
        String base = UNetShapesTest.CONFIGS.get("odd-refiner");
        float[] plain = predict(base);
        float[] ignored = predict(base.replace("\"act_fn\"", "\"resnet_out_scale_factor\": 2.0, \"resnet_skip_time_act\": true,"
                + " \"cross_attention_norm\": \"group_norm\", \"dropout\": 0.3, \"act_fn\""));
        assertThat(ignored).isEqualTo(plain);
        assertThat(predict(base.replace("\"act_fn\"", "\"mid_block_scale_factor\": 2.0, \"act_fn\""))).isNotEqualTo(plain);
        assertThat(predict(base.replace("\"act_fn\": \"gelu\"", "\"act_fn\": \"silu\""))).isNotEqualTo(plain);
        assertThat(predict(base.replace("\"act_fn\"", "\"flip_sin_to_cos\": false, \"act_fn\""))).isNotEqualTo(plain);
    }

    private static float[] predict(String json) {
        UNet2DConditionModel unet = UNetShapesTest.random(json);
        try (NDManager m = M.newSubManager()) {
            m.getEngine().setRandomSeed(11);
            UNetInput in = UNetShapesTest.randomInput(m, unet.config(), new UNet2DConditionModel.InputSize(2, 8, 6, 7, 5));
            return unet.forward(in).toFloatArray();
        }
    }

    /** A forward in a ForwardScope leaves only its output behind, however many blocks and hooks ran. */
    @Test
    void nativeMemoryStaysFlat() {
        for (String model : GoldenUNets.models()) {
            UNet2DConditionModel unet = GoldenUNets.load(model);
            try (NDManager m = M.newSubManager()) {
                UNetInput in = GoldenUNets.input(m, model, 500);
                int before = m.getManagedArrays().size();
                for (StopAfter stop : new StopAfter[] {StopAfter.END, new StopAfter("mid_block")}) {
                    NDArray out;
                    try (ForwardScope scope = new ForwardScope()) {
                        out = scope.keep(unet.forward(in, stop));
                    }
                    assertThat(m.getManagedArrays()).as(model + " arrays left after a forward to " + stop).hasSize(before + 1);
                    out.close();
                }
            }
        }
    }

    @Test
    void inputsItCannotTakeFailInOneLine() {
        for (String model : GoldenUNets.models()) {
            UNet2DConditionModel unet = GoldenUNets.load(model);
            try (NDManager m = M.newSubManager()) {
                UNetInput ok = GoldenUNets.input(m, model, 500);
                NDArray sample = ok.sample();
                NDArray text = ok.encoderHiddenStates();
                assertFails(unet, new UNetInput(sample.concat(sample, 1), ok.timestep(), text, ok.textEmbeds(), ok.timeIds()), "sample");
                assertFails(unet, new UNetInput(sample, ok.timestep(), text.concat(text, 2), ok.textEmbeds(), ok.timeIds()), "encoder_hidden_states");
                assertFails(unet, new UNetInput(sample, m.create(new float[] {1, 2, 3}), text, ok.textEmbeds(), ok.timeIds()), "timestep");
                if (unet.config().time().textTime()) {
                    assertFails(unet, new UNetInput(sample, ok.timestep(), text, null, null), "text_embeds");
                    assertFails(unet, ok.withAddedCond(ok.textEmbeds(), ok.timeIds().concat(ok.timeIds(), 1)), "projection_class_embeddings_input_dim");
                }
                assertThatThrownBy(() -> unet.forward(ok, new StopAfter("down_blocks.99")))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("down_blocks.99");
            }
        }
    }

    private static void assertFails(UNet2DConditionModel unet, UNetInput in, String names) {
        assertThatThrownBy(() -> unet.forward(in)).isInstanceOf(UnetlensException.class).hasMessageContaining(names)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    /** Per-row timesteps are per-row: each row equals a batch-1 forward at its own timestep. */
    @Test
    void perRowTimestepsActPerRow() {
        for (String model : GoldenUNets.models()) {
            UNet2DConditionModel unet = GoldenUNets.load(model);
            try (NDManager m = M.newSubManager()) {
                UNetInput one = GoldenUNets.input(m, model, 0);
                float[] t = {999, 1, 261.5f};
                NDArray rows = unet.forward(batchOf(one, m.create(t), t.length));
                for (int r = 0; r < t.length; r++) {
                    float[] single = unet.forward(new UNetInput(one.sample(), m.create(t[r]), one.encoderHiddenStates(),
                            one.textEmbeds(), one.timeIds())).toFloatArray();
                    float[] row = rows.get(r + ":" + (r + 1)).toFloatArray();
                    float worst = 0;
                    for (int i = 0; i < row.length; i++) {
                        worst = Math.max(worst, Math.abs(row[i] - single[i]));
                    }
                    assertThat(worst).as(model + " row " + r + " (t=" + t[r] + ") vs batch of one").isLessThan(1e-5f);
                }
                assertThat(Arrays.equals(rows.get("0:1").toFloatArray(), rows.get("1:2").toFloatArray())).isFalse();
            }
        }
    }

    private static UNetInput batchOf(UNetInput one, NDArray timesteps, int n) {
        NDArray[] s = new NDArray[n];
        NDArray[] c = new NDArray[n];
        NDArray[] te = new NDArray[n];
        NDArray[] ti = new NDArray[n];
        for (int i = 0; i < n; i++) {
            s[i] = one.sample();
            c[i] = one.encoderHiddenStates();
            te[i] = one.textEmbeds();
            ti[i] = one.timeIds();
        }
        return new UNetInput(GoldenUNets.cat(s), timesteps, GoldenUNets.cat(c),
                one.textEmbeds() == null ? null : GoldenUNets.cat(te), one.timeIds() == null ? null : GoldenUNets.cat(ti));
    }

    @Test
    void scalarAndOneElementTimestepsBroadcast() {
        String model = GoldenUNets.models().getFirst();
        UNet2DConditionModel unet = GoldenUNets.load(model);
        try (NDManager m = M.newSubManager()) {
            UNetInput one = GoldenUNets.input(m, model, 500);
            UNetInput two = batchOf(one, m.create(500f), 2);
            float[] scalar = unet.forward(two).toFloatArray();
            float[] vector = unet.forward(new UNetInput(two.sample(), m.create(new long[] {500}), two.encoderHiddenStates(),
                    two.textEmbeds(), two.timeIds())).toFloatArray();
            assertThat(vector).isEqualTo(scalar);
            assertThat(scalar.length).isEqualTo(two.sample().getShape().size() / unet.config().inChannels() * unet.config().outChannels());
        }
    }
}
