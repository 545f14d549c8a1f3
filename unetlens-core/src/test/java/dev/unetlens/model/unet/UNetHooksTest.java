package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.golden.Golden;
import dev.unetlens.model.HookTable;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The U-Net's hook points on every golden model: every point fires once per forward and every golden module name
 * is a point (STYLE point 3); replacements flow downstream exactly as in diffusers and change nothing upstream;
 * early exit fires the same points with the same tensors as a full forward and nothing after its stage.
 */
class UNetHooksTest {
    private static final double TIMESTEP = 500;

    @TestFactory
    Stream<DynamicNode> hooks() {
        return GoldenUNets.models().stream().map(model -> DynamicContainer.dynamicContainer(model, List.of(
                DynamicTest.dynamicTest("every point fires, every golden module is a point", () -> coverage(model)),
                DynamicTest.dynamicTest("zeroing an attention changes exactly what follows it", () -> zeroAttention(model)),
                DynamicTest.dynamicTest("zeroing a skip changes only its up block onwards", () -> zeroSkip(model)),
                DynamicTest.dynamicTest("replacing down hidden_states replaces the last skip", () -> replaceHidden(model)),
                DynamicTest.dynamicTest("replacing attention probs changes the attention output", () -> replaceProbs(model)),
                DynamicTest.dynamicTest("early exit equals the full forward", () -> earlyExit(model)),
                DynamicTest.dynamicTest("stopAfter resolves points to their stage", () -> stopAfterResolution(model)))));
    }

    private static void coverage(String model) {
        UNet2DConditionModel unet = GoldenUNets.load(model);
        try (NDManager m = GoldenUNets.MANAGER.newSubManager(); Recorder rec = new Recorder(unet.hooks())) {
            unet.forward(GoldenUNets.input(m, model, TIMESTEP));
            List<String> all = unet.hooks().points().stream().map(HookTable.PointInfo::name).toList();
            assertThat(rec.fired()).containsExactlyInAnyOrderElementsOf(all);
        }
        List<String> golden = new ArrayList<>();
        Golden.get().entries().stream().filter(e -> model.equals(e.model()))
                .filter(e -> e.kind().equals("unet") || e.kind().equals("half_weights/unet"))
                .forEach(e -> {
                    if (e.module() != null) {
                        golden.add(e.module().equals("<output>") ? "" : e.module());
                    }
                    int h = e.file().indexOf("/hooks/");
                    if (h >= 0) {
                        golden.add(e.file().substring(h + "/hooks/".length(), e.file().length() - ".npy".length()));
                    }
                    if (e.file().contains("attn_probs_") && e.module() != null) {
                        golden.add(e.module() + ":probs");
                    }
                });
        assertThat(golden).as("golden module names").isNotEmpty();
        for (String name : golden) {
            assertThat(unet.hooks().find(name)).as("hook point for golden module '" + name + "'").isPresent();
        }
    }

    /** Zero a down block's first attention (below the top level if possible): what follows changes, not before. */
    private static void zeroAttention(String model) {
        UNet2DConditionModel unet = GoldenUNets.load(model);
        String point = preferDeeper(unet, "down_blocks\\.%s\\.attentions\\.0", "mid_block\\.attentions\\.0");
        intervene(unet, model, point, NDArray::zerosLike, (base, run) -> {
            List<String> order = base.fired();
            assertDownstream(base, run, order.get(order.indexOf(point) + 1));
        });
    }

    /**
     * Zero one skip tensor: the down path, the mid block and the up blocks until the resnet that pops it are
     * untouched; from that resnet on, everything that depends on the hidden states changes.
     */
    private static void zeroSkip(String model) {
        UNet2DConditionModel unet = GoldenUNets.load(model);
        String point = preferDeeper(unet, "down_blocks\\.%s\\.res_samples\\.0", "down_blocks\\.0\\.res_samples\\.0");
        String consumer = consumerOf(unet, point);
        intervene(unet, model, point, NDArray::zerosLike, (base, run) ->
                assertDownstream(base, run, consumer + ".norm1"));
    }

    /** hidden_states and the last skip are one tensor in diffusers: a replacement of the first is the second. */
    private static void replaceHidden(String model) {
        UNet2DConditionModel unet = GoldenUNets.load(model);
        String point = firstMatching(unet, "down_blocks\\.\\d+\\.hidden_states");
        String block = point.substring(0, point.length() - ".hidden_states".length());
        List<String> skips = names(unet, Pattern.quote(block) + "\\.res_samples\\.\\d+");
        String lastSkip = skips.getLast();
        intervene(unet, model, point, NDArray::zerosLike, (base, run) -> {
            assertDownstream(base, run, lastSkip);
            assertThat(run.get(lastSkip).abs().max().getFloat()).as(lastSkip + " is the replacement").isZero();
        });
    }

    /** Zeroed cross-attention probabilities: the attention output is to_out's bias, and the rest follows. */
    private static void replaceProbs(String model) {
        UNet2DConditionModel unet = GoldenUNets.load(model);
        String point = firstMatching(unet, ".*\\.attn2:probs");
        intervene(unet, model, point, NDArray::zerosLike, (base, run) -> {
            List<String> order = base.fired();
            assertDownstream(base, run, order.get(order.indexOf(point) + 1));
        });
    }

    /** Runs a baseline forward and one with {@code point} replaced, both recorded, then checks them. */
    private static void intervene(UNet2DConditionModel unet, String model, String point,
                                  java.util.function.UnaryOperator<NDArray> replacement,
                                  java.util.function.BiConsumer<Recorder, Recorder> check) {
        try (NDManager m = GoldenUNets.MANAGER.newSubManager()) {
            UNetInput in = GoldenUNets.input(m, model, TIMESTEP);
            try (Recorder base = new Recorder(unet.hooks())) {
                NDArray baseOut = unet.forward(in).duplicate();
                try (Recorder run = new Recorder(unet.hooks()).replace(point, replacement)) {
                    NDArray out = unet.forward(in);
                    assertThat(Arrays.equals(out.toFloatArray(), baseOut.toFloatArray())).as("prediction changed").isFalse();
                    check.accept(base, run);
                }
            }
        }
    }

    /**
     * Points fired before {@code firstAffected} are bit-identical to the baseline; from it on, every point that
     * depends on the hidden states differs. Independent of them: the time embedding, each resnet's
     * {@code time_emb_proj} (of emb only) and cross-attention's {@code :context}, {@code to_k} and {@code to_v} (of
     * the text only).
     */
    private static void assertDownstream(Recorder base, Recorder run, String firstAffected) {
        List<String> order = base.fired();
        assertThat(run.fired()).containsExactlyElementsOf(order);
        int first = order.indexOf(firstAffected);
        assertThat(first).as("'" + firstAffected + "' fired").isGreaterThanOrEqualTo(0);
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < order.size(); i++) {
            String q = order.get(i);
            boolean same = Arrays.equals(base.get(q).toFloatArray(), run.get(q).toFloatArray());
            boolean expectSame = i < first || independentOfHidden(q);
            if (same != expectSame) {
                wrong.add(q + (expectSame ? " changed" : " did not change"));
            }
        }
        assertThat(wrong).as("points whose change contradicts the data flow").isEmpty();
    }

    private static boolean independentOfHidden(String point) {
        return point.endsWith(".time_emb_proj") || point.endsWith(".attn2.to_k") || point.endsWith(".attn2.to_v")
                || point.endsWith(".attn2:context");
    }

    /** The up resnet that pops a skip: skips are pushed conv_in first, then per block; popped from the end. */
    private static String consumerOf(UNet2DConditionModel unet, String skip) {
        List<String> pushed = new ArrayList<>(List.of("conv_in"));
        pushed.addAll(names(unet, "down_blocks\\.\\d+\\.res_samples\\.\\d+"));
        List<String> poppedBy = new ArrayList<>();
        for (String block : names(unet, "up_blocks\\.\\d+")) {
            poppedBy.addAll(names(unet, Pattern.quote(block) + "\\.resnets\\.\\d+"));
        }
        assertThat(poppedBy).hasSameSizeAs(pushed);
        return poppedBy.get(pushed.size() - 1 - pushed.indexOf(skip));
    }

    /** Every stage's prefix of the full forward's points, with the same tensors, and nothing after it. */
    private static void earlyExit(String model) {
        UNet2DConditionModel unet = GoldenUNets.load(model);
        List<String> stages = unet.stages();
        List<String> chosen = List.of(stages.getFirst(), stages.get(stages.indexOf("mid_block") - 1), "mid_block",
                stages.get(stages.indexOf("mid_block") + 2), stages.get(stages.size() - 2));
        try (NDManager m = GoldenUNets.MANAGER.newSubManager()) {
            UNetInput in = GoldenUNets.input(m, model, TIMESTEP);
            try (Recorder full = new Recorder(unet.hooks())) {
                unet.forward(in);
                List<String> order = full.fired();
                for (String stage : chosen) {
                    StopAfter stop = new StopAfter(stage);
                    int last = -1;
                    for (int i = 0; i < order.size(); i++) {
                        if (inStage(order.get(i), stage)) {
                            last = i;
                        }
                    }
                    try (Recorder part = new Recorder(unet.hooks())) {
                        NDArray out = unet.forward(in, stop);
                        assertThat(part.fired()).as("points fired stopping after " + stage)
                                .containsExactlyElementsOf(order.subList(0, last + 1));
                        for (String p : part.fired()) {
                            assertThat(part.get(p).toFloatArray()).as(p + " stopping after " + stage)
                                    .isEqualTo(full.get(p).toFloatArray());
                        }
                        String returned = stage.equals("time_embedding") ? ":emb" : stage;
                        assertThat(out.toFloatArray()).as("returned by stopping after " + stage)
                                .isEqualTo(full.get(returned).toFloatArray());
                    }
                }
            }
        }
    }

    private static boolean inStage(String point, String stage) {
        if (stage.equals("time_embedding")) {
            return point.startsWith("time_") || point.startsWith("add_") || point.equals(":emb");
        }
        return point.equals(stage) || point.startsWith(stage + ".") || point.startsWith(stage + ":");
    }

    private static void stopAfterResolution(String model) {
        UNet2DConditionModel unet = GoldenUNets.load(model);
        String last = "up_blocks." + (unet.config().levels() - 1);
        String deep = firstMatching(unet, Pattern.quote(last) + "\\.resnets\\.0\\.conv1");
        assertThat(unet.stopAfter(List.of(deep, "down_blocks.0.resnets.0.norm1")).stage()).isEqualTo(last);
        assertThat(unet.stopAfter(List.of("conv_in", "mid_block.resnets.0.norm1", "down_blocks.0")).stage())
                .isEqualTo("mid_block");
        assertThat(unet.stopAfter(List.of(":emb", "time_proj")).stage()).isEqualTo("time_embedding");
        assertThat(unet.stopAfter(List.of("conv_out", "")).stage()).isEqualTo("");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> unet.stopAfter(List.of("down_blocks.99")))
                .hasMessageContaining("down_blocks.99");
    }

    /** The first point matching {@code pattern} with a block index ≥ 1, else the first matching {@code fallback}. */
    private static String preferDeeper(UNet2DConditionModel unet, String pattern, String fallback) {
        List<String> deeper = names(unet, pattern.formatted("[1-9]\\d*"));
        return deeper.isEmpty() ? firstMatching(unet, fallback) : deeper.getFirst();
    }

    private static String firstMatching(UNet2DConditionModel unet, String regex) {
        List<String> n = names(unet, regex);
        assertThat(n).as("a hook point matching " + regex).isNotEmpty();
        return n.getFirst();
    }

    private static List<String> names(UNet2DConditionModel unet, String regex) {
        Pattern p = Pattern.compile(regex);
        return unet.hooks().points().stream().map(HookTable.PointInfo::name).filter(n -> p.matcher(n).matches()).toList();
    }
}
