package dev.unetlens.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.HookTable;
import dev.unetlens.model.unet.UNet2DConditionModel;
import dev.unetlens.model.unet.UNetInput;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link BlockProfile} on the golden U-Nets: every row is one kind of point of one module class. */
class BlockProfileTest {
    static List<String> models() {
        return Golden.get().modelsWith("unet");
    }

    @ParameterizedTest
    @MethodSource("models")
    void rowsChargeEachClassItsOwnPoints(String model) throws Exception {
        DiffusersFolder f = DiffusersFolder.open(Golden.get().path("models/" + model));
        UNetConfig c = UNetConfig.read(f.config("unet"));
        try (NDManager m = NDManager.newBaseManager(); TensorSource src = f.openWeights("unet", null)) {
            UNet2DConditionModel unet = UNet2DConditionModel.load(src, c, m);
            HookTable table = unet.hooks();
            // the points of each (kind, class) pair: a forward fires each at most once
            Map<String, Long> points = table.points().stream().filter(p -> !p.name().endsWith(":probs"))
                    .collect(Collectors.groupingBy(p -> BlockProfile.kind(p.name()) + " " + BlockProfile.className(p),
                            Collectors.counting()));
            List<BlockProfile.Row> rows;
            try (BlockProfile profile = new BlockProfile(table); ForwardScope scope = new ForwardScope()) {
                long size = 4L << (c.levels() - 1);                            // any size the levels can halve
                UNetInput in = UNetInput.of(m.randomNormal(new Shape(1, c.inChannels(), size, size)), 10,
                        m.randomNormal(new Shape(1, 3, c.midCrossAttentionDim())));
                if (c.time().textTime()) {
                    long pooled = c.time().projectionClassEmbeddingsInputDim() - 6L * c.time().additionTimeEmbedDim();
                    in = in.withAddedCond(m.randomNormal(new Shape(1, pooled)),
                            m.create(new float[] {size * 8, size * 8, 0, 0, size * 8, size * 8}, new Shape(1, 6)));
                }
                profile.start();
                unet.forward(in);
                rows = profile.rows();
            }
            assertThat(rows).isNotEmpty();
            for (BlockProfile.Row r : rows) {
                assertThat(r.count()).as("%s (%s) fired at most once per point of that class", r.kind(), r.className())
                        .isLessThanOrEqualTo(points.getOrDefault(r.kind() + " " + r.className(), 0L));
            }
            assertThat(rows.stream().map(r -> r.kind() + " " + r.className())).doesNotHaveDuplicates();
            boolean feedForward = table.points().stream().anyMatch(p -> p.name().endsWith("ff.net.2"));
            if (feedForward) {                                                  // the feed-forward's output Linear
                assertThat(rows).anySatisfy(r -> {
                    assertThat(r.kind()).isEqualTo("attentions.transformer_blocks.ff.net");
                    assertThat(r.className()).isEqualTo("Linear");
                });
            }
        }
    }
}
