package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.golden.Capture;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.HookTable;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static dev.unetlens.golden.GoldenModels.assertClose;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * UNet2DConditionModel against {@code cases/<model>/unet} for every model that has them, discovered from the
 * index: per timestep directory the output, every {@code hooks/<module>.npy}, the self- and cross-attention maps
 * (module names from the index entries), and SDXL's {@code add_embeds} / {@code emb}; the classifier-free-guidance
 * batch and its guided combination (scale read from the index description); the half-weight goldens of
 * {@code cases/<model>/half_weights}. Tolerances: golden README §9, single modules atol 1e-5 rtol 1e-4, attention
 * maps atol 1e-6.
 */
class UNet2DConditionModelGoldenTest {
    static final double ATOL = 1e-5;
    static final double RTOL = 1e-4;
    static final double PROBS_ATOL = 1e-6;
    static final Pattern TIMESTEP_DIR = Pattern.compile("cases/[^/]+/unet/(t(\\d+))/out\\.npy");
    private static final Pattern CFG_OUT = Pattern.compile("cases/[^/]+/unet/(cfg_b(\\d+)_t(\\d+))_out\\.npy");
    private static final Pattern HALF = Pattern.compile("cases/[^/]+/half_weights/unet_t(\\d+)_out_(\\w+?)_weights\\.npy");
    private static final Pattern GUIDANCE = Pattern.compile("\\+\\s*([0-9]+(?:\\.[0-9]+)?)\\s*\\*");
    private static final Pattern ATTN_MODULE = Pattern.compile("((?:down_blocks|mid_block|up_blocks)[\\w.]*\\.attn[12])");

    @TestFactory
    Stream<DynamicNode> unet() {
        Golden g = Golden.get();
        return GoldenUNets.models().stream().map(model -> {
            List<DynamicNode> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest("load", () -> assertThat(GoldenUNets.load(model)).isNotNull()));
            for (Golden.Entry e : entries("unet", model)) {
                Matcher t = TIMESTEP_DIR.matcher(e.file());
                if (t.matches()) {
                    String dir = e.file().substring(0, e.file().length() - "out.npy".length());
                    long timestep = timestep(e, t.group(2));
                    tests.add(DynamicTest.dynamicTest(t.group(1), () -> checkTimestep(model, dir, timestep)));
                }
                Matcher c = CFG_OUT.matcher(e.file());
                if (c.matches()) {
                    assertThat(c.group(2)).as(e.file() + ": a CFG case is one [uncond, cond] pair (README §4)").isEqualTo("2");
                    tests.add(DynamicTest.dynamicTest(c.group(1), () -> checkCfg(model, e, timestep(e, c.group(3)))));
                }
            }
            for (Golden.Entry e : entries("half_weights/unet", model)) {
                Matcher h = HALF.matcher(e.file());
                if (h.matches()) {
                    tests.add(DynamicTest.dynamicTest("half weights " + h.group(2),
                            () -> checkHalfWeights(model, e, h.group(2), timestep(e, h.group(1)))));
                }
            }
            tests.add(DynamicTest.dynamicTest("every unet fixture used", () ->
                    assertThat(g.unread("unet", model)).isEmpty()));
            tests.add(DynamicTest.dynamicTest("every half_weights/unet fixture used", () ->
                    assertThat(g.unread("half_weights/unet", model)).isEmpty()));
            return DynamicContainer.dynamicContainer(model, tests);
        });
    }

    private static List<Golden.Entry> entries(String kind, String model) {
        return Golden.get().entries(kind).filter(e -> model.equals(e.model())).toList();
    }

    /** The index entry's timestep, else the number in the file name. */
    static long timestep(Golden.Entry e, String fromName) {
        JsonNode t = e.node().get("timestep");
        return t != null && t.isNumber() ? t.asLong() : Long.parseLong(fromName);
    }

    /** The attention module an attention-map fixture belongs to: its index {@code module}, else from its text. */
    private static String attentionModule(Golden.Entry e) {
        if (e.module() != null) {
            return e.module();
        }
        Matcher m = ATTN_MODULE.matcher(e.node().path("desc").asText());
        assertThat(m.find()).as("module of " + e.file() + " (neither a module field nor a path in desc)").isTrue();
        return m.group(1);
    }

    private static void checkTimestep(String model, String dir, long timestep) {
        try (NDManager m = GoldenUNets.MANAGER.newSubManager()) {
            timestepOutputs(model, dir, timestep, m).forEach((file, ours) -> {
                boolean probs = file.substring(dir.length()).startsWith("attn_probs_");
                assertClose(file, ours, probs ? PROBS_ATOL : ATOL, probs ? 0 : RTOL);
            });
        }
    }

    /**
     * Our arrays for every fixture of a timestep case ({@code dir} = {@code cases/<model>/unet/t<N>/}), by fixture
     * file: the output, every {@code hooks/<module>.npy}, the attention maps (in the golden layout), {@code emb} and
     * SDXL's {@code add_embeds}; the arrays live in {@code m}.
     */
    static Map<String, NDArray> timestepOutputs(String model, String dir, long timestep, NDManager m) {
        Golden g = Golden.get();
        UNet2DConditionModel unet = GoldenUNets.load(model);
        Map<String, String> fixtures = new TreeMap<>();    // hook point → fixture file
        Map<String, Golden.Entry> byFile = new TreeMap<>();
        g.entries("unet").filter(e -> e.file().startsWith(dir)).forEach(e -> byFile.put(e.file(), e));
        for (String f : byFile.keySet()) {
            String rest = f.substring(dir.length());
            if (rest.startsWith("hooks/")) {
                fixtures.put(rest.substring("hooks/".length(), rest.length() - ".npy".length()), f);
            } else if (rest.startsWith("attn_probs_")) {
                fixtures.put(attentionModule(byFile.get(f)) + ":probs", f);
            } else if (rest.equals("emb.npy")) {
                fixtures.put(":emb", f);
            }
        }
        Map<String, NDArray> ours = new TreeMap<>();
        try (Capture cap = new Capture(unet.hooks(), List.copyOf(fixtures.keySet()));
             InputCapture addEmbeds = new InputCapture(unet.hooks(), "add_embedding.linear_1")) {
            UNetInput in = GoldenUNets.input(m, model, timestep);
            ours.put(dir + "out.npy", unet.forward(in));
            for (var f : fixtures.entrySet()) {                  // copies: the captures are closed below
                NDArray a = cap.get(f.getKey());
                ours.put(f.getValue(), (f.getKey().endsWith(":probs") ? headsToBatch(a) : a).duplicate());
            }
            if (g.exists(dir + "add_embeds.npy")) {
                ours.put(dir + "add_embeds.npy", addEmbeds.get().duplicate());
            }
            ours.values().forEach(a -> a.attach(m));
        }
        return ours;
    }

    /** Our (B, N, T, S) attention maps in the golden (B·N, T, S) layout: row b·N + n. */
    private static NDArray headsToBatch(NDArray probs) {
        Shape s = probs.getShape();
        return probs.reshape(s.get(0) * s.get(1), s.get(2), s.get(3));
    }

    /**
     * The CFG batch: row 0 unconditional ({@code *_uncond.npy} inputs where they exist), row 1 conditional, the same
     * sample; then the guided combination g = u + s·(c − u), s read from the guided fixture's description.
     *
     * <p>g is checked twice. On the fixture's own rows, at ATOL / RTOL: the scale, the row order and the formula.
     * On our rows, at ATOL / RTOL carried through the combination: our rows are within ATOL + RTOL·|x| of the
     * fixture's (checked first), so g is within |1 − s|·(ATOL + RTOL·|u|) + s·(ATOL + RTOL·|c|). The plain ATOL
     * cannot hold there: g multiplies the rows' float32 noise (≈ 2e-6 here, README §16's CPU-to-CPU variation,
     * no module standing out) by up to |1 − s| + s = 14 for s = 7.5.
     */
    private static void checkCfg(String model, Golden.Entry outEntry, long timestep) {
        Golden g = Golden.get();
        String dir = "cases/" + model + "/unet/";
        String name = outEntry.file().substring(dir.length(), outEntry.file().length() - "_out.npy".length());
        UNet2DConditionModel unet = GoldenUNets.load(model);
        try (NDManager m = GoldenUNets.MANAGER.newSubManager()) {
            NDArray sample = GoldenModels.load(m, dir + "sample.npy");
            NDArray cond = GoldenModels.load(m, dir + "encoder_hidden_states.npy");
            NDArray uncond = GoldenModels.load(m, dir + "encoder_hidden_states_uncond.npy");
            UNetInput in = UNetInput.of(GoldenUNets.cat(sample, sample), timestep, GoldenUNets.cat(uncond, cond));
            if (g.exists(dir + "text_embeds.npy")) {
                NDArray timeIds = GoldenModels.load(m, dir + "time_ids.npy");
                NDArray timeIdsUncond = g.exists(dir + "time_ids_uncond.npy")
                        ? GoldenModels.load(m, dir + "time_ids_uncond.npy") : timeIds;
                in = in.withAddedCond(
                        GoldenUNets.cat(GoldenModels.load(m, dir + "text_embeds_uncond.npy"),
                                GoldenModels.load(m, dir + "text_embeds.npy")),
                        GoldenUNets.cat(timeIdsUncond, timeIds));
            }
            NDArray out = unet.forward(in);
            assertClose(outEntry.file(), out, ATOL, RTOL);

            String guidedFile = dir + name + "_guided.npy";
            Golden.Entry guidedEntry = g.entries("unet").filter(e -> e.file().equals(guidedFile)).findFirst().orElseThrow();
            Matcher s = GUIDANCE.matcher(guidedEntry.node().path("desc").asText());
            assertThat(s.find()).as("guidance scale in the description of " + guidedFile).isTrue();
            float scale = Float.parseFloat(s.group(1));
            NDArray fixtureOut = GoldenModels.load(m, outEntry.file());
            assertClose(guidedFile, guided(fixtureOut, scale), ATOL, RTOL);

            float[] expected = g.npy(guidedFile).toFloats();
            float[] u = fixtureOut.get("0:1").toFloatArray();
            float[] c = fixtureOut.get("1:2").toFloatArray();
            float[] actual = guided(out, scale).toFloatArray();
            for (int i = 0; i < expected.length; i++) {
                double bound = Math.abs(1 - scale) * (ATOL + RTOL * Math.abs(u[i])) + scale * (ATOL + RTOL * Math.abs(c[i]));
                double diff = Math.abs(actual[i] - expected[i]);
                assertThat(diff).as(guidedFile + " from our rows, element " + i).isLessThanOrEqualTo(bound);
            }
        }
    }

    /** u + s·(c − u) of a [2, C, H, W] batch ordered [uncond, cond]. */
    private static NDArray guided(NDArray rows, float scale) {
        NDArray u = rows.get("0:1");
        NDArray c = rows.get("1:2");
        return u.add(c.sub(u).mul(scale));
    }

    /** The U-Net loaded from the variant weight file, on the inputs named in the fixture's description. */
    private static void checkHalfWeights(String model, Golden.Entry e, String variant, long timestep) {
        UNet2DConditionModel unet = GoldenUNets.load(model, variant);
        try (NDManager m = GoldenUNets.MANAGER.newSubManager()) {
            String desc = e.node().path("desc").asText();
            assertThat(desc).as("inputs of " + e.file()).contains("../unet/sample.npy", "../unet/encoder_hidden_states.npy");
            NDArray out = unet.forward(GoldenUNets.input(m, model, timestep));
            assertClose(e.file(), out, ATOL, RTOL);
        }
    }

    /** Keeps a copy of the input of one module (SDXL's add_embeds is add_embedding.linear_1's input). */
    static final class InputCapture implements AutoCloseable {
        private final HookTable table;
        private final int slot;
        private NDArray value;

        InputCapture(HookTable table, String name) {
            this.table = table;
            this.slot = table.find(name).map(HookTable.PointInfo::slot).orElse(-1);
            if (slot >= 0) {
                table.setListener(slot, (p, in, out, ctx) -> {
                    value = ForwardScope.detach(in.duplicate());
                    return out;
                });
            }
        }

        NDArray get() {
            assertThat(value).as("input captured").isNotNull();
            return value;
        }

        @Override
        public void close() {
            if (slot >= 0) {
                table.setListener(slot, null);
            }
            if (value != null) {
                value.close();
            }
        }
    }
}
