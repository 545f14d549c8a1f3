package dev.unetlens.intervene;

import dev.unetlens.hook.BlockNames;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Per-block prompts on the bundled model: equal texts are the plain prompt bit for bit; a change at one block stays downstream of it. */
class LayerPromptsRunTest {
    @TempDir
    static Path dir;
    static StableDiffusion sd;

    @BeforeAll
    static void load() {
        sd = Tiny.load(dir);
    }

    @AfterAll
    static void close() {
        sd.close();
    }

    private static GenerationResult run(GenerationRequest r) {
        try (Intervention iv = Intervention.prepare(sd, r, List.of())) {
            return iv.generate(null, null, Progress.NONE);
        }
    }

    private static void assertSameRun(GenerationResult a, GenerationResult b) {
        assertThat(a.finalLatents().toFloats()).isEqualTo(b.finalLatents().toFloats());
        assertThat(a.images().getFirst().rgb()).isEqualTo(b.images().getFirst().rgb());
    }

    /** Every block reads "a  cute  girl" through its own context hook: the run is the plain "a cute girl" run, bit for bit. */
    @Test
    void sameTextInEveryBlockIsThePlainPrompt() {
        GenerationRequest layered = Tiny.request("a (~: IN00-OUT11: cute :~) girl")
                .negativePrompt("(~: _ : blurry :~)").build();
        try (LayerPrompts lp = LayerPrompts.of(sd, layered)) {
            assertThat(lp.plainRequest().prompts()).containsExactly("a  girl");
            assertThat(lp.active()).as("every block's text differs from the plain 'a  girl', so every block is hooked").isTrue();
            assertThat(lp.blocks()).allSatisfy(b -> assertThat(b.prompts()).containsExactly("a  cute  girl"));
        }
        GenerationResult plain = run(Tiny.request("a cute girl").negativePrompt("blurry").build());
        GenerationResult viaLayers = run(layered);
        assertSameRun(viaLayers, plain);
        assertThat(viaLayers.request().prompts()).containsExactly("a (~: IN00-OUT11: cute :~) girl");
        GenerationResult other = run(Tiny.request("a sad girl").negativePrompt("blurry").build());
        assertThat(other.finalLatents().toFloats()).as("a different prompt changes the run").isNotEqualTo(plain.finalLatents().toFloats());
    }

    /**
     * Only IN05 reads "excellent": at the first step every point that fires before IN05's first cross-attention reads
     * its context is bit-identical, IN05's output and the prediction change, and the unconditional rows (negative
     * prompt, unchanged) are identical everywhere.
     */
    @Test
    void changeAtOneBlockChangesNothingUpstreamAtTheFirstStep() {
        List<String> points = Tiny.allPoints(sd);
        Tiny.Firing plain = firing(Tiny.request("a cute girl").build(), points);
        Tiny.Firing layered = firing(Tiny.request("a (~: IN05: excellent ; _: cute :~) girl").build(), points);
        String in05 = BlockNames.of(sd.unet().config()).module("IN05").orElseThrow();
        String firstContext = CrossAttentionBlocks.of(sd.unet()).get("IN05").getFirst() + ":context";
        List<String> order = plain.order();
        assertThat(layered.order()).isEqualTo(order);
        int cut = order.indexOf(firstContext);
        assertThat(cut).isPositive();
        List<String> changedUpstream = new ArrayList<>();
        for (String p : order.subList(0, cut)) {
            if (!Arrays.equals(plain.values.get(p), layered.values.get(p))) {
                changedUpstream.add(p);
            }
        }
        assertThat(changedUpstream).as("points upstream of IN05 that changed").isEmpty();
        assertThat(layered.values.get(firstContext)).isNotEqualTo(plain.values.get(firstContext));
        assertThat(layered.values.get(in05)).isNotEqualTo(plain.values.get(in05));
        assertThat(layered.values.get("conv_out")).isNotEqualTo(plain.values.get("conv_out"));
        // rows [uncond, cond]: the unconditional half never changes
        List<String> changedUncond = new ArrayList<>();
        for (String p : order) {
            float[] a = plain.values.get(p);
            float[] b = layered.values.get(p);
            if (a.length % 2 == 0 && !Arrays.equals(Arrays.copyOf(a, a.length / 2), Arrays.copyOf(b, b.length / 2))) {
                changedUncond.add(p);
            }
        }
        assertThat(changedUncond).as("points whose unconditional rows changed").isEmpty();
    }

    /** A negative prompt with layer syntax changes the unconditional rows of its block and nothing of the conditional ones. */
    @Test
    void negativeLayerPromptChangesTheUnconditionalSide() {
        List<String> points = Tiny.allPoints(sd);
        Tiny.Firing plain = firing(Tiny.request("a cute girl").negativePrompt("blurry").build(), points);
        Tiny.Firing layered = firing(Tiny.request("a cute girl").negativePrompt("(~: M00: ugly ; _: blurry :~)").build(), points);
        String mid = "mid_block";
        float[] a = plain.values.get(mid);
        float[] b = layered.values.get(mid);
        int half = a.length / 2;
        assertThat(Arrays.copyOf(b, half)).as("uncond rows of M00").isNotEqualTo(Arrays.copyOf(a, half));
        assertThat(Arrays.copyOfRange(b, half, a.length)).as("cond rows of M00").isEqualTo(Arrays.copyOfRange(a, half, a.length));
    }

    /** IN00 (conv_in) and IN03 (a downsampler) read no text: their prompts change nothing, and the report says so. */
    @Test
    void blocksWithoutCrossAttentionAreReportedAndIneffective() {
        GenerationRequest r = Tiny.request("a (~: IN00, IN03: excellent ; _: cute :~) girl").build();
        try (LayerPrompts lp = LayerPrompts.of(sd, r)) {
            assertThat(lp.ineffective()).containsExactly("IN00", "IN03");
            assertThat(lp.blocks().getFirst().prompts()).containsExactly("a  excellent  girl");
            Map<String, List<String>> attn = CrossAttentionBlocks.of(sd.unet());
            assertThat(attn.get("IN00")).isEmpty();
            assertThat(attn.get("IN03")).isEmpty();                 // down_blocks.0.downsamplers.0
        }
        assertSameRun(run(r), run(Tiny.request("a cute girl").build()));
    }

    /** Each distinct text is encoded once, however many blocks read it. */
    @Test
    void eachDistinctTextIsEncodedOnce() {
        GenerationRequest r = Tiny.request("a (~: IN01-IN02: red ; IN04, OUT05: red ; M00: blue ; _: green :~) car").build();
        try (LayerPrompts lp = LayerPrompts.of(sd, r)) {
            assertThat(lp.encodedTexts()).containsExactlyInAnyOrder("a  red  car", "a  blue  car", "a  green  car");
        }
    }

    /** Every attn2 of the U-Net belongs to exactly one block; the up blocks' last attention to the upsampler's block. */
    @Test
    void everyCrossAttentionBelongsToOneBlock() {
        Map<String, List<String>> attn = CrossAttentionBlocks.of(sd.unet());
        List<String> all = sd.unet().hooks().points().stream().map(p -> p.name()).filter(n -> n.endsWith(".attn2")).toList();
        List<String> assigned = attn.values().stream().flatMap(List::stream).toList();
        assertThat(assigned).containsExactlyInAnyOrderElementsOf(all);
        assertThat(attn.get("OUT05")).allSatisfy(a -> assertThat(a).startsWith("up_blocks.1.attentions.2."));
        assertThat(attn.get("M00")).allSatisfy(a -> assertThat(a).startsWith("mid_block.attentions.0."));
        assertThat(attn.get("IN01")).allSatisfy(a -> assertThat(a).startsWith("down_blocks.0.attentions.0."));
    }

    /**
     * SDXL (the golden tiny model): each block's context is both encoders' states of its text, as in a plain run of
     * that text; the pooled embeds (through add_embedding) stay the plain prompt's, the group removed.
     */
    @Test
    void sdxlContextsPerBlockPooledFromThePlainPrompt() {
        try (StableDiffusion xl = StableDiffusion.load(dev.unetlens.golden.Golden.get().path("models/tiny-sdxl"),
                StableDiffusion.Options.DEFAULT)) {
            List<String> contexts = CrossAttentionBlocks.of(xl.unet()).values().stream().flatMap(List::stream)
                    .map(a -> a + ":context").toList();
            List<String> points = new ArrayList<>(contexts);
            points.add("add_embedding");
            Tiny.Firing layered = firing(xl, Tiny.request("a (~: IN00-OUT08: red :~) cat").build(), points);
            Tiny.Firing red = firing(xl, Tiny.request("a red cat").build(), points);
            Tiny.Firing plain = firing(xl, Tiny.request("a  cat").build(), points);
            assertThat(contexts).hasSizeGreaterThan(1);
            for (String c : contexts) {
                assertThat(layered.values.get(c)).as(c).isEqualTo(red.values.get(c));
            }
            assertThat(layered.values.get("add_embedding")).isEqualTo(plain.values.get("add_embedding"))
                    .isNotEqualTo(red.values.get("add_embedding"));
        }
    }

    private static Tiny.Firing firing(GenerationRequest r, List<String> points) {
        return firing(sd, r, points);
    }

    private static Tiny.Firing firing(StableDiffusion model, GenerationRequest r, List<String> points) {
        Tiny.Firing f = new Tiny.Firing();
        try (Intervention iv = Intervention.prepare(model, r, List.of())) {
            iv.generate(null, scope -> f.install(scope, points, 0), Progress.NONE);
        }
        return f;
    }
}
