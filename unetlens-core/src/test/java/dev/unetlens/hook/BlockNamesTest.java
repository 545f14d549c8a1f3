package dev.unetlens.hook;

import ai.djl.ndarray.NDManager;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.golden.Golden;
import dev.unetlens.model.Weights;
import dev.unetlens.model.unet.HookShape;
import dev.unetlens.model.unet.UNet2DConditionModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** WebUI block names, module selections and step selections. */
class BlockNamesTest {
    private static final NDManager M = NDManager.newBaseManager();

    @AfterAll
    static void close() {
        M.close();
    }

    /** A U-Net of this config with placeholder weights: structure and shapes only. */
    static UNet2DConditionModel structure(UNetConfig c) {
        return new UNet2DConditionModel(Weights.placeholders(M, "unet"), c);
    }

    static UNetConfig sd15() throws Exception {
        try (InputStream in = UNetConfig.class.getResourceAsStream("/dev/unetlens/synth/sd15/unet.json")) {
            return UNetConfig.from(JsonConfig.parse("sd15 unet", new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        }
    }

    /** Dump U-Net's README: SD 1.x at 512 px has IN00 320×64×64, IN05 640×32×32, M00 1280×8×8, OUT06 640×32×32, OUT11 320×64×64. */
    @Test
    void fullSizeSd15MatchesDumpUnetsShapes() throws Exception {
        UNet2DConditionModel unet = structure(sd15());
        BlockNames names = BlockNames.of(unet.config());
        assertThat(names.names()).hasSize(25).startsWith("IN00").endsWith("OUT11").contains("M00");
        Map<String, HookShape> shapes = unet.shapes(1, 64, 64).stream()
                .collect(Collectors.toMap(HookShape::name, Function.identity()));
        Map<String, long[]> expected = Map.of("IN00", new long[] {1, 320, 64, 64}, "IN05", new long[] {1, 640, 32, 32},
                "M00", new long[] {1, 1280, 8, 8}, "OUT06", new long[] {1, 640, 32, 32}, "OUT11", new long[] {1, 320, 64, 64});
        expected.forEach((block, shape) -> assertThat(shapes.get(names.module(block).orElseThrow()).shape().getShape())
                .as(block).containsExactly(shape));
        assertThat(names.module("IN03")).contains("down_blocks.0.downsamplers.0");
        assertThat(names.module("IN10")).contains("down_blocks.3.resnets.0");
        assertThat(names.module("OUT02")).contains("up_blocks.0.upsamplers.0");
        assertThat(names.module("OUT03")).contains("up_blocks.1.attentions.0");
        assertThat(names.blockName("up_blocks.3.attentions.2")).contains("OUT11");
    }

    /** Every block of every golden model is a hook point; SDXL has IN00–IN08, M00, OUT00–OUT08. */
    @TestFactory
    Stream<DynamicTest> everyGoldenModelsBlocksAreHookPoints() {
        return Golden.get().models().stream().map(model -> DynamicTest.dynamicTest(model, () -> {
            UNetConfig c = UNetConfig.read(Golden.get().path("models/" + model + "/unet/config.json"));
            UNet2DConditionModel unet = structure(c);
            BlockNames names = BlockNames.of(c);
            int in = 1 + c.layersPerBlock().stream().mapToInt(Integer::intValue).sum() + c.levels() - 1;
            int out = 0;
            for (int i = 0; i < c.levels(); i++) {
                out += c.upLayers(i);
            }
            assertThat(names.names()).hasSize(in + 1 + out);
            for (String b : names.names()) {
                assertThat(unet.hooks().find(names.module(b).orElseThrow())).as(b).isPresent();
            }
        }));
    }

    @Test
    void rangesAndStridesFollowDumpUnet() throws Exception {
        BlockNames names = BlockNames.of(sd15());
        assertThat(Selector.blocks("IN00-OUT11(+2)", names)).containsExactly("IN00", "IN02", "IN04", "IN06", "IN08",
                "IN10", "M00", "OUT01", "OUT03", "OUT05", "OUT07", "OUT09", "OUT11");
        assertThat(Selector.blocks("IN11-OUT00", names)).containsExactly("IN11", "M00", "OUT00");
        assertThat(Selector.blocks("IN00, IN01, M00", names)).containsExactly("IN00", "IN01", "M00");
        assertThat(Selector.blocks("in0-in2 (+1)", names)).containsExactly("IN00", "IN01", "IN02");
        assertThatThrownBy(() -> Selector.blocks("OUT11-IN00", names)).hasMessageContaining("runs backwards");
        assertThatThrownBy(() -> Selector.blocks("IN12", names)).hasMessageContaining("IN00–IN11, M00, OUT00–OUT11");
        assertThatThrownBy(() -> Selector.blocks("IN00-OUT11(+0)", names)).hasMessageContaining("(+0)");
    }

    @Test
    void selectionsMixBlocksAndPaths() throws Exception {
        UNet2DConditionModel unet = structure(sd15());
        BlockNames names = BlockNames.of(unet.config());
        assertThat(Selector.resolve("IN05, mid_block, down_blocks[1].attentions[0].transformer_blocks[0].attn2:probs, M00",
                unet.hooks(), names)).containsExactly("down_blocks.1.attentions.1", "mid_block",
                "down_blocks.1.attentions.0.transformer_blocks.0.attn2:probs");
        assertThatThrownBy(() -> Selector.resolve("down_blocks.1.attentons.0", unet.hooks(), names))
                .isInstanceOf(UnetlensException.class)
                .hasMessageStartingWith("unknown module 'down_blocks.1.attentons.0'; nearest valid names: down_blocks.1.attentions.0");
        assertThatThrownBy(() -> Selector.resolve("IN05,,M00", unet.hooks(), names)).hasMessageContaining("empty entry");
        assertThatThrownBy(() -> Selector.resolve("unet.__class__", unet.hooks(), names)).isInstanceOf(UnetlensException.class);
    }

    @Test
    void stepSelectionsCountFromOne() {
        assertThat(StepSelection.parse("1,5-20(+5)", 20)).containsExactly(1, 5, 10, 15, 20);
        assertThat(StepSelection.parse(" 3 , 1-2", 5)).containsExactly(1, 2, 3);
        for (String bad : List.of("0", "21", "5-3", "1-5(+0)", "a", "1,,2", "")) {
            assertThatThrownBy(() -> StepSelection.parse(bad, 20)).as(bad).isInstanceOf(UnetlensException.class);
        }
    }
}
