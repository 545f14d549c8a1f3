package dev.unetlens.intervene;

import dev.unetlens.UnetlensException;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Activation patching: a run patched from itself is itself; the prediction patched at every step is the clean run. */
class PatchingTest {
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

    /** Patches at blocks, internals, channel sets, regions, single steps and all steps, from the same request: nothing changes. */
    @Test
    void aPatchFromARunIntoItselfChangesNothing() {
        GenerationRequest r = Tiny.request("a red car").negativePrompt("blurry").build();
        GenerationResult plain = new dev.unetlens.pipeline.Pipeline(sd).generate(r);
        List<Edit> patches = List.of(
                Edit.parse("IN05:patch@steps=1-2"),
                Edit.parse("mid_block.attentions.0.transformer_blocks.0.attn2:probs:patch"),
                Edit.parse("up_blocks.3.attentions.0:patch@box=0.25,0.25,0.75,0.75,rows=cond"),
                Edit.parse("conv_in:patch@channels=0-3,steps=3"),
                Edit.parse("OUT05-OUT08:patch@steps=2"));
        try (Intervention iv = Intervention.prepare(sd, r, patches); Recording source = iv.recordSource(r, Progress.NONE)) {
            assertThat(source.points()).hasSize(1 + 1 + 1 + 1 + 4);
            GenerationResult patched = iv.generate(source, null, Progress.NONE);
            assertThat(patched.finalLatents().toFloats()).isEqualTo(plain.finalLatents().toFloats());
            assertThat(patched.images().getFirst().rgb()).isEqualTo(plain.images().getFirst().rgb());
        }
    }

    /**
     * A sweep over targets × steps with the L2 distance of the final latents to the clean run: patching the U-Net's
     * prediction (conv_out) at every step turns the corrupted run into the clean one exactly; one step does not; a run
     * patched from itself scores 0 everywhere.
     */
    @Test
    void sweepTable() {
        GenerationRequest clean = Tiny.request("a red car").build();
        GenerationRequest corrupted = Tiny.request("a blue bicycle").build();
        try (Patching p = Patching.prepare(sd, clean, corrupted, List.of("conv_out", "M00"), List.of("1", "1-3"), null,
                Progress.NONE)) {
            Patching.PatchTable t = p.sweep(r -> Patching.latentDistance(r, p.clean()), Progress.NONE);
            assertThat(t.clean()).isZero();
            assertThat(t.corrupted()).isPositive();
            assertThat(t.rows()).extracting(Patching.Row::target, Patching.Row::steps)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("conv_out", "1"), org.assertj.core.groups.Tuple.tuple("conv_out", "1-3"),
                            org.assertj.core.groups.Tuple.tuple("M00", "1"), org.assertj.core.groups.Tuple.tuple("M00", "1-3"));
            assertThat(t.rows().get(1).value()).as("conv_out at every step").isZero();
            assertThat(t.rows().get(0).value()).as("conv_out at step 1 only").isPositive();
            assertThat(t.rows().get(2).points()).containsExactly("mid_block");
            String csv = t.toCsv();
            assertThat(csv.lines().toList()).hasSize(3 + 4).contains("target,points,steps,value,seconds");
            assertThat(csv.lines().toList().get(4)).startsWith("conv_out,conv_out,1-3,0.0,");
            assertThat(t.toJson().get("rows")).hasSize(4);
        }
        try (Patching self = Patching.prepare(sd, clean, clean, List.of("IN04", "OUT03"), List.of(), new Region.Box(0, 0, 0.5, 1),
                Progress.NONE)) {
            Patching.PatchTable t = self.sweep(r -> Patching.latentDistance(r, self.clean()), Progress.NONE);
            assertThat(t.rows()).hasSize(2).allSatisfy(row -> assertThat(row.value()).isZero());
            assertThat(t.rows()).extracting(Patching.Row::steps).containsOnly("all");
        }
    }

    @Test
    void sourcesMustHaveTheSameShape() {
        GenerationRequest a = Tiny.request("a").build();
        assertThatThrownBy(() -> Patching.checkCompatible(a, Tiny.request("a").size(64, 128).build()))
                .isInstanceOf(UnetlensException.class).hasMessageContaining("size 64×64 vs 128×64");
        assertThatThrownBy(() -> Patching.checkCompatible(a, Tiny.request("a").guidance(1).steps(4).build()))
                .hasMessageContaining("classifier-free guidance on one side only, steps 3 vs 4");
        try (Intervention iv = Intervention.prepare(sd, a, List.of(Edit.parse("M00:patch")))) {
            assertThatThrownBy(() -> iv.generate(null, null, Progress.NONE)).hasMessageContaining("'patch' copies from a source run");
        }
    }
}
