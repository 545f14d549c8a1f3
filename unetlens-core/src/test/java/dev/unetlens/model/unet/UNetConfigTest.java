package dev.unetlens.model.unet;

import dev.unetlens.config.ConfigException;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.config.UNetConfig.ActFn;
import dev.unetlens.config.UNetConfig.DownBlockType;
import dev.unetlens.config.UNetConfig.UpBlockType;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.DiffusersFolder;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** UNetConfig: diffusers 0.27.2 defaults, the per-block conventions, and one-line refusals naming the field. */
class UNetConfigTest {

    private static UNetConfig parse(String json) {
        return UNetConfig.from(JsonConfig.parse("config.json", json));
    }

    @TestFactory
    Stream<DynamicTest> everyGoldenConfigParses() {
        Golden g = Golden.get();
        return g.modelsWith("unet").stream().map(m -> DynamicTest.dynamicTest(m, () -> {
            UNetConfig c = UNetConfig.read(DiffusersFolder.open(g.path("models/" + m)).config("unet"));
            assertThat(c.levels()).isEqualTo(c.blockOutChannels().size());
        }));
    }

    @Test
    void emptyConfigGivesDiffusersDefaults() {
        UNetConfig c = parse("{}");
        assertThat(c.blockOutChannels()).containsExactly(320, 640, 1280, 1280);
        assertThat(c.downBlockTypes()).containsExactly(DownBlockType.CrossAttnDownBlock2D,
                DownBlockType.CrossAttnDownBlock2D, DownBlockType.CrossAttnDownBlock2D, DownBlockType.DownBlock2D);
        assertThat(c.upBlockTypes()).containsExactly(UpBlockType.UpBlock2D, UpBlockType.CrossAttnUpBlock2D,
                UpBlockType.CrossAttnUpBlock2D, UpBlockType.CrossAttnUpBlock2D);
        assertThat(c.layersPerBlock()).containsExactly(2, 2, 2, 2);
        assertThat(c.attention().heads()).containsExactly(8, 8, 8, 8);
        assertThat(c.attention().crossAttentionDim()).containsExactly(1280, 1280, 1280, 1280);
        assertThat(c.attention().useLinearProjection()).isFalse();
        assertThat(c.normNumGroups()).isEqualTo(32);
        assertThat(c.normEps()).isEqualTo(1e-5);
        assertThat(c.actFn()).isEqualTo(ActFn.SILU);
        assertThat(c.time().embedDim()).isEqualTo(4 * 320);
        assertThat(c.time().flipSinToCos()).isTrue();
        assertThat(c.time().freqShift()).isZero();
        assertThat(c.time().textTime()).isFalse();
        assertThat(c.downsamplePadding()).isEqualTo(1);
        assertThat(c.midBlockScaleFactor()).isEqualTo(1.0);
        assertThat(c.convInKernel()).isEqualTo(3);
        assertThat(c.upLayers(0)).isEqualTo(3);
        assertThat(c.sampleSize()).isEmpty();
    }

    /** SD 2.x: a head count per block; the mid block takes the last, up block i entry n−1−i. */
    @Test
    void headCountsFollowTheBlockConvention() {
        UNetConfig c = parse("""
                {"attention_head_dim": [5, 10, 20, 40], "use_linear_projection": true, "cross_attention_dim": 1024}""");
        assertThat(List.of(c.downHeads(0), c.downHeads(1), c.downHeads(2), c.downHeads(3))).containsExactly(5, 10, 20, 40);
        assertThat(c.midHeads()).isEqualTo(40);
        assertThat(List.of(c.upHeads(0), c.upHeads(1), c.upHeads(2), c.upHeads(3))).containsExactly(40, 20, 10, 5);
        assertThat(c.midCrossAttentionDim()).isEqualTo(1024);
    }

    /** SDXL base: transformer depths per block, the mid block the last, the up blocks reversed. */
    @Test
    void sdxlTransformerDepths() {
        UNetConfig c = parse("""
                {"block_out_channels": [320, 640, 1280], "layers_per_block": 2,
                 "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
                 "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
                 "transformer_layers_per_block": [1, 2, 10], "attention_head_dim": [5, 10, 20],
                 "addition_embed_type": "text_time", "addition_time_embed_dim": 256,
                 "projection_class_embeddings_input_dim": 2816, "cross_attention_dim": 2048,
                 "use_linear_projection": true, "num_attention_heads": null}""");
        assertThat(c.attention().downLayers()).containsExactly(List.of(1, 1), List.of(2, 2), List.of(10, 10));
        assertThat(c.attention().midLayers()).isEqualTo(10);
        assertThat(c.attention().upLayers()).containsExactly(List.of(10, 10, 10), List.of(2, 2, 2), List.of(1, 1, 1));
        assertThat(c.time().textTime()).isTrue();
        assertThat(c.time().additionTimeEmbedDim()).isEqualTo(256);
    }

    /** An asymmetric U-Net: per-layer depths, with reverse_transformer_layers_per_block for the up blocks. */
    @Test
    void perLayerDepthsNeedTheReverseList() {
        String base = """
                {"block_out_channels": [32, 64], "layers_per_block": [1, 2],
                 "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
                 "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
                 "transformer_layers_per_block": [[1], [2, 3]]%s}""";
        assertThatThrownBy(() -> parse(base.formatted("")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("reverse_transformer_layers_per_block");
        UNetConfig c = parse(base.formatted(", \"reverse_transformer_layers_per_block\": [[4, 5, 6], 7]"));
        assertThat(c.attention().downLayers()).containsExactly(List.of(1), List.of(2, 3));
        assertThat(c.attention().midLayers()).isEqualTo(2);
        assertThat(c.attention().upLayers()).containsExactly(List.of(4, 5, 6), List.of(7, 7));
        assertThat(c.upLayers(0)).isEqualTo(3);
        assertThat(c.upLayers(1)).isEqualTo(2);
    }

    @Test
    void numAttentionHeadsIsRejectedLikeDiffusers() {
        assertThatThrownBy(() -> parse("{\"num_attention_heads\": 8}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("num_attention_heads").hasMessageContaining("attention_head_dim")
                .hasMessageContaining("2011");
    }

    /** Every feature unetlens does not implement fails in one line that names its field. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "class_embed_type|\"timestep\"",
        "num_class_embeds|10",
        "class_embeddings_concat|true",
        "encoder_hid_dim|768",
        "encoder_hid_dim_type|\"text_proj\"",
        "addition_embed_type|\"text\"",
        "dual_cross_attention|true",
        "only_cross_attention|true",
        "only_cross_attention|[false, true, false, false]",
        "resnet_time_scale_shift|\"scale_shift\"",
        "attention_type|\"gated\"",
        "time_cond_proj_dim|256",
        "time_embedding_type|\"fourier\"",
        "mid_block_type|\"UNetMidBlock2DSimpleCrossAttn\"",
        "mid_block_type|null",
        "norm_num_groups|null",
        "act_fn|\"tanh\"",
        "timestep_post_act|\"softsign\"",
        "conv_in_kernel|4",
        "down_block_types|[\"AttnDownBlock2D\", \"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\", \"DownBlock2D\"]",
        "up_block_types|[\"UpBlock2D\", \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\", \"SimpleCrossAttnUpBlock2D\"]",
        "layers_per_block|[2, 2]",
        "attention_head_dim|[8, 8, 8]",
        "cross_attention_dim|[768, 768]",
        "transformer_layers_per_block|[1, 2]",
        "block_out_channels|[320, 640, 1280, 1000]",
        "some_future_option|1",
    })
    void unsupportedFieldsAreNamed(String field, String value) {
        assertThatThrownBy(() -> parse("{\"" + field + "\": " + value + "}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("config.json: ")
                .hasMessageContaining(field)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    /** Fields that do not touch the supported blocks are accepted, as diffusers accepts and ignores them. */
    @Test
    void fieldsWithoutEffectOnTheseBlocksAreAccepted() {
        UNetConfig c = parse("""
                {"resnet_out_scale_factor": 2.0, "resnet_skip_time_act": true, "cross_attention_norm": "group_norm",
                 "mid_block_only_cross_attention": true, "addition_embed_type_num_heads": 32, "dropout": 0.1,
                 "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.27.2", "sample_size": [96, 64]}""");
        assertThat(c.sampleSize()).containsExactly(96, 64);
    }

    @Test
    void blockTypesAndActivationsParseLikeDiffusers() {
        UNetConfig c = parse("""
                {"down_block_types": ["UNetResCrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                 "UNetResDownBlock2D"], "act_fn": "SWISH", "time_embedding_act_fn": "gelu", "timestep_post_act": "mish"}""");
        assertThat(c.downBlockTypes().getFirst()).isEqualTo(DownBlockType.CrossAttnDownBlock2D);
        assertThat(c.downBlockTypes().getLast()).isEqualTo(DownBlockType.DownBlock2D);
        assertThat(c.actFn()).isEqualTo(ActFn.SILU);
        assertThat(c.time().embeddingAct()).isEqualTo(ActFn.GELU);
        assertThat(c.time().postAct()).isEqualTo(ActFn.MISH);
    }

    @Test
    void textTimeNeedsItsDimensions() {
        assertThatThrownBy(() -> parse("{\"addition_embed_type\": \"text_time\"}"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("addition_time_embed_dim");
    }
}
