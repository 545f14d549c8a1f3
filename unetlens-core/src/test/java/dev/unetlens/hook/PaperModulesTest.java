package dev.unetlens.hook;

import dev.unetlens.config.UNetConfig;
import dev.unetlens.golden.Golden;
import dev.unetlens.model.unet.UNet2DConditionModel;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code --at paper}: the anomaly paper's module list, derived from the module tree of whatever U-Net is loaded. */
class PaperModulesTest {
    /** run_experiments.py's sd15_all_blocks, flattened, as written there (brackets). */
    private static final List<String> PAPER_SD15 = List.of("conv_in",
            "down_blocks[0].resnets[0]", "down_blocks[0].attentions[0]", "down_blocks[0].resnets[1]", "down_blocks[0].attentions[1]", "down_blocks[0].downsamplers[0]",
            "down_blocks[1].resnets[0]", "down_blocks[1].attentions[0]", "down_blocks[1].resnets[1]", "down_blocks[1].attentions[1]", "down_blocks[1].downsamplers[0]",
            "down_blocks[2].resnets[0]", "down_blocks[2].attentions[0]", "down_blocks[2].resnets[1]", "down_blocks[2].attentions[1]", "down_blocks[2].downsamplers[0]",
            "down_blocks[3].resnets[0]", "down_blocks[3].resnets[1]",
            "mid_block.resnets[0]", "mid_block.attentions[0]", "mid_block.resnets[1]",
            "up_blocks[0].resnets[0]", "up_blocks[0].resnets[1]", "up_blocks[0].upsamplers[0]",
            "up_blocks[1].resnets[0]", "up_blocks[1].attentions[0]", "up_blocks[1].resnets[1]", "up_blocks[1].attentions[1]", "up_blocks[1].resnets[2]", "up_blocks[1].attentions[2]", "up_blocks[1].upsamplers[0]",
            "up_blocks[2].resnets[0]", "up_blocks[2].attentions[0]", "up_blocks[2].resnets[1]", "up_blocks[2].attentions[1]", "up_blocks[2].resnets[2]", "up_blocks[2].attentions[2]", "up_blocks[2].upsamplers[0]",
            "up_blocks[3].resnets[0]", "up_blocks[3].attentions[0]", "up_blocks[3].resnets[1]", "up_blocks[3].attentions[1]", "up_blocks[3].resnets[2]", "up_blocks[3].attentions[2]",
            "conv_out");

    /** The rule written out from the config alone (the paper's loops over blocks), for comparison with the tree's. */
    private static List<String> fromConfig(UNetConfig c) {
        List<String> out = new ArrayList<>(List.of("conv_in"));
        int n = c.levels();
        for (int i = 0; i < n; i++) {
            boolean attn = c.downBlockTypes().get(i) == UNetConfig.DownBlockType.CrossAttnDownBlock2D;
            for (int j = 0; j < c.layersPerBlock().get(i); j++) {
                out.add("down_blocks." + i + ".resnets." + j);
                if (attn) {
                    out.add("down_blocks." + i + ".attentions." + j);
                }
            }
            if (i < n - 1) {
                out.add("down_blocks." + i + ".downsamplers.0");
            }
        }
        out.addAll(List.of("mid_block.resnets.0", "mid_block.attentions.0", "mid_block.resnets.1"));
        for (int i = 0; i < n; i++) {
            boolean attn = c.upBlockTypes().get(i) == UNetConfig.UpBlockType.CrossAttnUpBlock2D;
            for (int j = 0; j < c.upLayers(i); j++) {
                out.add("up_blocks." + i + ".resnets." + j);
                if (attn) {
                    out.add("up_blocks." + i + ".attentions." + j);
                }
            }
            if (i < n - 1) {
                out.add("up_blocks." + i + ".upsamplers.0");
            }
        }
        out.add("conv_out");
        return out;
    }

    /**
     * The paper's list has 45 modules (not the 40 the issue counts) and leaves out {@code up_blocks[0].resnets[2]},
     * which SD 1.5 has (up blocks have layers + 1 resnets); the rule "every resnet" gives 46, the paper's 45 in its
     * order plus that one.
     */
    @Test
    void fullSizeSd15GivesThePapersModulesInItsOrderPlusTheResnetItLeftOut() throws Exception {
        UNet2DConditionModel unet = BlockNamesTest.structure(BlockNamesTest.sd15());
        List<String> paper = PAPER_SD15.stream().map(p -> ModulePath.parse(p).value()).toList();
        assertThat(paper).hasSize(45);
        List<String> ours = PaperModules.of(unet.hooks());
        assertThat(ours).hasSize(46);
        List<String> without = new ArrayList<>(ours);
        without.remove("up_blocks.0.resnets.2");
        assertThat(without).containsExactlyElementsOf(paper);
        assertThat(ours.indexOf("up_blocks.0.resnets.2")).isEqualTo(ours.indexOf("up_blocks.0.resnets.1") + 1);
        assertThat(Selector.resolve("paper", unet.hooks(), BlockNames.of(unet.config()))).containsExactlyElementsOf(ours);
        assertThat(PaperModules.reference(unet.hooks())).contains("up_blocks.1.upsamplers.0");
    }

    /** Every golden model (SD 1.5-, 2.1-, SDXL-structured, odd channels): the tree's list equals the config's rule. */
    @TestFactory
    Stream<DynamicTest> everyGoldenModelGetsItsOwnList() {
        return Golden.get().models().stream().map(model -> DynamicTest.dynamicTest(model, () -> {
            UNetConfig c = UNetConfig.read(Golden.get().path("models/" + model + "/unet/config.json"));
            UNet2DConditionModel unet = BlockNamesTest.structure(c);
            List<String> list = PaperModules.of(unet.hooks());
            assertThat(list).containsExactlyElementsOf(fromConfig(c));
            for (String m : list) {
                assertThat(unet.hooks().find(m)).as(m).isPresent();
            }
            List<String> selected = Selector.resolve("PAPER, mid_block", unet.hooks(), BlockNames.of(c));
            assertThat(selected).startsWith(list.toArray(String[]::new)).endsWith("mid_block").hasSize(list.size() + 1);
        }));
    }

    @Test
    void shortLabelsFollowThePapersFigure() {
        assertThat(PaperModules.shortLabel("down_blocks.1.attentions.0")).isEqualTo("dn1 attn0");
        assertThat(PaperModules.shortLabel("up_blocks.2.upsamplers.0")).isEqualTo("up2 up");
        assertThat(PaperModules.shortLabel("mid_block.resnets.1")).isEqualTo("mid res1");
        assertThat(PaperModules.shortLabel("conv_out")).isEqualTo("conv_out");
    }
}
