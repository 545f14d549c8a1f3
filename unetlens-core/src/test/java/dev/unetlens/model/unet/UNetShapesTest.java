package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.model.HookTable;
import dev.unetlens.model.Weights;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link UNet2DConditionModel#shapes}, computed from the config, against the shapes a real forward produces: on
 * every golden model and on random-weight models of unusual configs, at square, non-square and odd latent sizes
 * (72×56 px is a 9×7 latent), with other text lengths and batch sizes.
 */
class UNetShapesTest {
    /** Latent sizes: square, non-square, 72×56 px, and one smaller than 2^(levels−1) in both axes. */
    private static final List<UNet2DConditionModel.InputSize> SIZES = List.of(
            new UNet2DConditionModel.InputSize(1, 16, 16, 77, 6),
            new UNet2DConditionModel.InputSize(2, 12, 20, 77, 6),
            new UNet2DConditionModel.InputSize(1, 9, 7, 77, 6),
            new UNet2DConditionModel.InputSize(3, 6, 5, 11, 6));

    /**
     * Configs the golden models do not cover: per-layer transformer depths with a reverse list, layers per block
     * per level, heads that do not divide the channels, an odd C0 (zero-padded sinusoid), conv kernels 1 and 5,
     * downsample padding 0, centring, other activations, a time_embedding_dim, SDXL text_time with 5 ids.
     */
    static final Map<String, String> CONFIGS = new LinkedHashMap<>();

    static {
        CONFIGS.put("asymmetric", """
                {"block_out_channels": [8, 16, 24], "layers_per_block": [1, 2, 1], "norm_num_groups": 4,
                 "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"],
                 "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D", "CrossAttnUpBlock2D"],
                 "transformer_layers_per_block": [[2], [1, 1], [0]],
                 "reverse_transformer_layers_per_block": [[1, 0], [1, 1, 1], [2, 1]],
                 "attention_head_dim": [3, 2, 5], "cross_attention_dim": 12, "downsample_padding": 0,
                 "conv_in_kernel": 1, "conv_out_kernel": 5, "center_input_sample": true, "in_channels": 3,
                 "out_channels": 5, "act_fn": "relu", "time_embedding_dim": 20, "timestep_post_act": "gelu",
                 "time_embedding_act_fn": "mish", "mid_block_scale_factor": 2.0, "flip_sin_to_cos": false,
                 "freq_shift": 1, "use_linear_projection": false}""");
        CONFIGS.put("odd-refiner", """
                {"block_out_channels": [9, 18], "layers_per_block": 1, "norm_num_groups": 3,
                 "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
                 "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"], "attention_head_dim": [3, 4],
                 "cross_attention_dim": 10, "use_linear_projection": true, "addition_embed_type": "text_time",
                 "addition_time_embed_dim": 3, "projection_class_embeddings_input_dim": 22, "act_fn": "gelu",
                 "transformer_layers_per_block": 2}""");
    }

    /** P = 22 − 5·3: the pooled width that goes with the odd-refiner config's 5 time ids. */
    private static final long REFINER_TIME_IDS = 5;

    @TestFactory
    Stream<DynamicNode> goldenModels() {
        return GoldenUNets.models().stream().map(model -> {
            UNet2DConditionModel unet = GoldenUNets.load(model);
            return DynamicContainer.dynamicContainer(model, SIZES.stream().map(size ->
                    DynamicTest.dynamicTest(describe(size), () -> checkShapes(unet, size))));
        });
    }

    @TestFactory
    Stream<DynamicNode> randomModels() {
        return CONFIGS.entrySet().stream().map(e -> {
            UNet2DConditionModel unet = random(e.getValue());
            long k = unet.config().time().textTime() ? REFINER_TIME_IDS : 6;
            return DynamicContainer.dynamicContainer(e.getKey(), SIZES.stream().map(s -> {
                UNet2DConditionModel.InputSize size = new UNet2DConditionModel.InputSize(s.batch(), s.height(),
                        s.width(), s.textTokens(), k);
                return DynamicTest.dynamicTest(describe(size), () -> checkShapes(unet, size));
            }));
        });
    }

    /** Too small to downsample (torch's conv fails): one line from both shapes() and forward(). */
    @TestFactory
    Stream<DynamicTest> tooSmallLatent() {
        return CONFIGS.entrySet().stream().limit(1).map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
            UNet2DConditionModel unet = random(e.getValue());
            UNet2DConditionModel.InputSize size = new UNet2DConditionModel.InputSize(1, 5, 3, 77, 6);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> unet.shapes(size))
                    .isInstanceOf(dev.unetlens.UnetlensException.class).hasMessageContaining("too small");
            try (NDManager m = GoldenUNets.MANAGER.newSubManager()) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> unet.forward(randomInput(m, unet.config(), size)))
                        .isInstanceOf(dev.unetlens.UnetlensException.class).hasMessageContaining("too small");
            }
        }));
    }

    static UNet2DConditionModel random(String json) {
        UNetConfig c = UNetConfig.from(JsonConfig.parse("config.json", json));
        return new UNet2DConditionModel(Weights.random(7, GoldenUNets.MANAGER, "unet"), c);
    }

    private static String describe(UNet2DConditionModel.InputSize s) {
        return "B" + s.batch() + " " + s.height() + "x" + s.width() + " S" + s.textTokens();
    }

    private static void checkShapes(UNet2DConditionModel unet, UNet2DConditionModel.InputSize size) {
        List<HookShape> predicted = unet.shapes(size);
        Map<String, Shape> observed = new LinkedHashMap<>();
        HookTable table = unet.hooks();
        for (HookTable.PointInfo p : table.points()) {
            table.setListener(p.slot(), (point, in, out, ctx) -> {
                observed.put(point.name(), out.getShape());
                return out;
            });
        }
        try (NDManager m = GoldenUNets.MANAGER.newSubManager()) {
            NDArray out = unet.forward(randomInput(m, unet.config(), size));
            assertThat(out.getShape()).isEqualTo(new Shape(size.batch(), unet.config().outChannels(), size.height(), size.width()));
        } finally {
            table.points().forEach(p -> table.setListener(p.slot(), null));
        }
        assertThat(predicted).extracting(HookShape::name)
                .containsExactlyElementsOf(table.points().stream().map(HookTable.PointInfo::name).toList());
        List<String> wrong = new ArrayList<>();
        for (HookShape h : predicted) {
            if (!h.shape().equals(observed.get(h.name()))) {
                wrong.add(h.name() + " predicted " + h.shape() + " observed " + observed.get(h.name()));
            }
        }
        assertThat(wrong).isEmpty();
        Map<String, String> classes = new LinkedHashMap<>();
        predicted.forEach(h -> classes.put(h.name(), h.className()));
        assertThat(classes.get("")).isEqualTo("UNet2DConditionModel");
        assertThat(classes.get("mid_block")).isEqualTo("UNetMidBlock2DCrossAttn");
        assertThat(classes.get("mid_block.attentions.0")).isEqualTo("Transformer2DModel");
        assertThat(classes.get("conv_act")).isEqualTo(unet.config().actFn().torchClass());
        for (int i = 0; i < unet.config().levels(); i++) {
            assertThat(classes.get("down_blocks." + i)).isEqualTo(unet.config().downBlockTypes().get(i).name());
            assertThat(classes.get("down_blocks." + i + ".res_samples.0")).isEqualTo(unet.config().downBlockTypes().get(i).name());
            assertThat(classes.get("up_blocks." + i)).isEqualTo(unet.config().upBlockTypes().get(i).name());
        }
    }

    /** Standard-normal inputs of the given size for the config (text width from its cross_attention_dim). */
    static UNetInput randomInput(NDManager m, UNetConfig c, UNet2DConditionModel.InputSize size) {
        long b = size.batch();
        NDArray sample = m.randomNormal(new Shape(b, c.inChannels(), size.height(), size.width()));
        NDArray text = m.randomNormal(new Shape(b, size.textTokens(), c.midCrossAttentionDim()));
        float[] timesteps = new float[(int) b];                                  // one per row
        for (int i = 0; i < b; i++) {
            timesteps[i] = new float[] {999, 1, 500.5f}[i % 3];
        }
        UNetInput in = UNetInput.of(sample, m.create(timesteps), text);
        if (c.time().textTime()) {
            long k = size.timeIds();
            long pooled = c.time().projectionClassEmbeddingsInputDim() - k * c.time().additionTimeEmbedDim();
            in = in.withAddedCond(m.randomNormal(new Shape(b, pooled)), m.randomUniform(0, 1024, new Shape(b, k)));
        }
        return in;
    }
}
