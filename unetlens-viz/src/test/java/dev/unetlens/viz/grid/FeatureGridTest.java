package dev.unetlens.viz.grid;

import dev.unetlens.viz.FeatureMap;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.Plane;
import dev.unetlens.viz.colorize.ColorMethod;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.colorize.ValueTransform;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class FeatureGridTest {
    private static final MapLabel LABEL = new MapLabel("mid_block", 3, 801);

    /** Channel c is constant c (so every tile has one known colour). */
    private static FeatureMap ramp(int channels, int h, int w) {
        float[] v = new float[channels * h * w];
        for (int c = 0; c < channels; c++) {
            java.util.Arrays.fill(v, c * h * w, (c + 1) * h * w, c);
        }
        return new FeatureMap(v, channels, h, w);
    }

    @SuppressWarnings("unchecked")
    private static int tilePixel(Picture p, int i, int dx, int dy) {
        Map<String, Object> l = (Map<String, Object>) p.fields().get("layout");
        List<Integer> origin = (List<Integer>) l.get("origin");
        List<Integer> pitch = (List<Integer>) l.get("pitch");
        int cols = (Integer) l.get("columns");
        int x = origin.get(0) + (i % cols) * pitch.get(0) + dx;
        int y = origin.get(1) + (i / cols) * pitch.get(1) + dy;
        return p.image().getRGB(x, y) & 0xffffff;
    }

    @Test
    void aWholeMidBlockFitsOnOneReadablePage() {
        // 1280 channels of 8×8: tiles enlarged ×4 to 32 px, 36 columns: about 1.3k px, not 40k
        List<Picture> pages = FeatureGrid.render(ramp(1280, 8, 8), LABEL, GridOptions.defaults());
        assertThat(pages).hasSize(1);
        Picture p = pages.getFirst();
        assertThat(p.width()).isBetween(1200, 1500);
        assertThat(p.height()).isBetween(1200, 1500);
        assertThat(p.fields()).containsEntry("channelRange", List.of(0, 1279)).containsEntry("pages", 1)
                .containsEntry("module", "mid_block").containsEntry("step", 3).containsEntry("timestep", 801.0)
                .containsEntry("shape", List.of(1280, 8, 8));
        @SuppressWarnings("unchecked")
        Map<String, Object> layout = (Map<String, Object>) p.fields().get("layout");
        assertThat(layout).containsEntry("tile", List.of(32, 32)).containsEntry("columns", 36);
    }

    @Test
    void everyTileHasItsChannelsColour() {
        // one shared Auto range over channels 0…99: channel c is (c − 0)/99 of the way through viridis
        Colorizer v = Colorizer.viridis();
        Picture p = FeatureGrid.render(ramp(100, 4, 4), LABEL, GridOptions.defaults()).getFirst();
        for (int c : new int[] {0, 1, 37, 99}) {
            assertThat(tilePixel(p, c, 5, 5)).isEqualTo(v.rgb(c, 0, 99));
            assertThat(tilePixel(p, c, 31, 31)).isEqualTo(v.rgb(c, 0, 99));   // 4×4 enlarged ×8: 32 px tiles
        }
    }

    @Test
    void smallMapsAreEnlargedByNearestNeighbour() {
        // one channel 2×2 [[−1, 1], [1, −1]] through Red/Blue · Linear(−1, 1): blue, red / red, blue; 16 px blocks
        FeatureMap m = new FeatureMap(new float[] {-1, 1, 1, -1}, 1, 2, 2);
        Colorizer rb = new Colorizer(new ValueTransform.Linear(-1, 1), new ColorMethod.RedBlue());
        Picture p = FeatureGrid.render(m, LABEL, GridOptions.defaults().withColorizer(rb)).getFirst();
        assertThat(tilePixel(p, 0, 0, 0)).isEqualTo(0x0000ff);
        assertThat(tilePixel(p, 0, 15, 15)).isEqualTo(0x0000ff);
        assertThat(tilePixel(p, 0, 16, 0)).isEqualTo(0xff0000);
        assertThat(tilePixel(p, 0, 0, 16)).isEqualTo(0xff0000);
        assertThat(tilePixel(p, 0, 31, 31)).isEqualTo(0x0000ff);
    }

    @Test
    void tileScopeScalesEachTileToItsOwnRange() {
        // channel 0: values 0 and 1; channel 1: values 10 and 30 → both run through the whole colour map
        FeatureMap m = new FeatureMap(new float[] {0, 1, 10, 30}, 2, 1, 2);
        Colorizer v = Colorizer.viridis();
        Picture p = FeatureGrid.render(m, LABEL, GridOptions.defaults().withScope(AutoScope.TILE)).getFirst();
        assertThat(tilePixel(p, 1, 0, 0)).isEqualTo(v.rgb(0, 0, 1));
        assertThat(tilePixel(p, 1, 32, 0)).isEqualTo(v.rgb(1, 0, 1));   // 1×2 enlarged ×32: 64×32 tiles
        assertThat(p.fields()).containsEntry("autoScope", "tile");
    }

    @Test
    void pagesContinueInChannelOrderPastTheMaximumSide() {
        // 64×64 tiles, 66 px pitch: a 200 px side holds 3×3 tiles, so 20 channels take 3 pages (9, 9, 2)
        List<Picture> pages = FeatureGrid.render(ramp(20, 64, 64), LABEL,
                GridOptions.defaults().withMaxPageSide(200));
        assertThat(pages).hasSize(3);
        assertThat(pages.get(0).fields()).containsEntry("channelRange", List.of(0, 8)).containsEntry("page", 1);
        assertThat(pages.get(2).fields()).containsEntry("channelRange", List.of(18, 19)).containsEntry("pages", 3);
        Colorizer v = Colorizer.viridis();
        assertThat(tilePixel(pages.get(1), 0, 3, 3)).isEqualTo(v.rgb(9, 0, 19));   // the shared range spans pages
    }

    @Test
    void aChannelSubsetKeepsItsOrderAndNumbers() {
        Picture p = FeatureGrid.render(ramp(50, 8, 8), LABEL, GridOptions.defaults().withChannels(List.of(42, 7, 19)))
                .getFirst();
        assertThat(p.fields()).containsEntry("channels", List.of(42, 7, 19)).doesNotContainKey("channelRange");
        Colorizer v = Colorizer.viridis();
        assertThat(tilePixel(p, 0, 1, 1)).isEqualTo(v.rgb(42, 7, 42));          // range over the subset: 7…42
        assertThat(tilePixel(p, 1, 1, 1)).isEqualTo(v.rgb(7, 7, 42));
        assertThatThrownBy(() -> FeatureGrid.render(ramp(50, 8, 8), LABEL,
                GridOptions.defaults().withChannels(List.of(50)))).hasMessageContaining("channel must be in [0, 49]");
    }

    @Test
    void reductionsAreChannelAverages() {
        // two channels on 1×3: (1, −3), (−2, 0), (3, 4)
        FeatureMap m = new FeatureMap(new float[] {1, -2, 3, -3, 0, 4}, 2, 1, 3);
        assertThat(Reduction.MEAN.apply(m).values()).containsExactly(new float[] {-1, -1, 3.5f}, within(1e-6f));
        assertThat(Reduction.L1.apply(m).values()).containsExactly(new float[] {2, 1, 3.5f}, within(1e-6f));
        assertThat(Reduction.L2.apply(m).values()).containsExactly(
                new float[] {(float) Math.sqrt(5), (float) Math.sqrt(2), (float) Math.sqrt(12.5)}, within(1e-6f));
        assertThat(Reduction.parse("2-norm")).isEqualTo(Reduction.L2);
        assertThat(Reduction.parse("mean")).isEqualTo(Reduction.MEAN);
        assertThatThrownBy(() -> Reduction.parse("sum")).hasMessageContaining("mean, l1 or l2")
                .hasMessageContaining("'mean'");
    }

    @Test
    void stepStripSharesOneRangeAlongItsRow() {
        // the same 1-channel map at two steps, values doubled at the second: both panels through one range
        FeatureMap a = new FeatureMap(new float[] {0, 1, 2, 3}, 1, 2, 2);
        FeatureMap b = new FeatureMap(new float[] {0, 2, 4, 6}, 1, 2, 2);
        Picture p = StepStrip.render(List.of(new dev.unetlens.viz.FeatureFrame(new MapLabel("up_blocks.1", 0, 981), a),
                        new dev.unetlens.viz.FeatureFrame(new MapLabel("up_blocks.1", 5, 731), b)),
                List.of(new StripRow.Channel(0)), Colorizer.viridis(), AutoScope.SHARED);
        assertThat(p.fields()).containsEntry("steps", List.of(0, 5)).containsEntry("rowRanges",
                List.of(List.of(0.0, 6.0)));
        assertThatThrownBy(() -> StepStrip.render(List.of(
                        new dev.unetlens.viz.FeatureFrame(new MapLabel("up_blocks.1", 0, 981), a),
                        new dev.unetlens.viz.FeatureFrame(new MapLabel("up_blocks.2", 5, 731), b)),
                List.of(new StripRow.Channel(0)), Colorizer.viridis(), AutoScope.SHARED))
                .hasMessageContaining("one module at one shape");
    }

    /** 30 steps of an 8×8 map (7.4k px in one line) wrap onto 4 lines of 8 or fewer, every step shown once. */
    @Test
    void longStepStripsWrap() {
        List<dev.unetlens.viz.FeatureFrame> frames = new java.util.ArrayList<>();
        for (int s = 1; s <= 30; s++) {
            frames.add(new dev.unetlens.viz.FeatureFrame(new MapLabel("mid_block", s, 1000 - 33 * s), ramp(4, 8, 8)));
        }
        Picture p = StepStrip.render(frames, List.of(new StripRow.Reduced(Reduction.L2)), Colorizer.magma(), AutoScope.SHARED);
        assertThat(p.width()).isLessThan(2100);
        assertThat(p.height()).isGreaterThan(4 * StepStrip.DISPLAY);
        assertThat(p.fields().get("steps")).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.LIST).hasSize(30);
        Picture two = StepStrip.render(frames.subList(0, 2), List.of(new StripRow.Reduced(Reduction.L2),
                new StripRow.Channel(0)), Colorizer.magma(), AutoScope.SHARED);
        assertThat(two.height()).isLessThan(3 * StepStrip.DISPLAY);
    }

    @Test
    void overviewGroupsBlocksByStage() {
        assertThat(UNetOverview.stage("down_blocks.2.resnets.0")).isZero();
        assertThat(UNetOverview.stage("mid_block")).isEqualTo(1);
        assertThat(UNetOverview.stage("up_blocks.0")).isEqualTo(2);
        assertThat(UNetOverview.stage("time_embedding")).isEqualTo(3);
    }

    @Test
    void constantPlaneHasAColourToo() {
        // Auto over a constant map gives 0: the first colour of the map, not a division by zero
        Plane c = new Plane(new float[] {2, 2, 2, 2}, 2, 2);
        assertThat(Colorizer.viridis().image(c).getRGB(0, 0) & 0xffffff).isEqualTo(Colorizer.viridis().rgb(0, 0, 1));
    }
}
