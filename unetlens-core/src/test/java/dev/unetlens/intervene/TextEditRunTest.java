package dev.unetlens.intervene;

import ai.djl.ndarray.NDManager;
import dev.unetlens.UnetlensException;
import dev.unetlens.golden.Golden;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.Component;
import dev.unetlens.hook.ModelHooks;
import dev.unetlens.hook.ModelScope;
import dev.unetlens.hook.ModulePath;
import dev.unetlens.model.ForwardContext.Branch;
import dev.unetlens.pipeline.Conditioning;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Text edits on every fixture model with text encoders (SD 1.5, SD 2.1, SDXL's two): a token swapped for a word gives
 * bit for bit the input embeddings (and so every state and the prompt embeds) of the prompt with that word in its
 * place; a mix is its float32 weighted sum at the word's positions only; scaled positions scale exactly the position
 * embeddings; the negative prompts stay as they were; a generation whose only edits are identities is bit for bit the
 * plain one; and mistakes fail in one line before anything runs.
 */
class TextEditRunTest {
    private static final String EMBEDDINGS = "text_model.embeddings";
    private static final String TOKENS = "text_model.embeddings.token_embedding";
    private static final String POSITIONS = "text_model.embeddings.position_embedding";

    @TestFactory
    Stream<DynamicNode> models() {
        return Golden.get().modelsWith("text_encoder").stream().map(model -> {
            StableDiffusion[] sd = new StableDiffusion[1];
            List<DynamicNode> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest("load", () -> sd[0] = StableDiffusion.load(
                    Golden.get().path("models/" + model), StableDiffusion.Options.DEFAULT)));
            tests.add(DynamicTest.dynamicTest("swap equals the other word", () -> swap(sd[0])));
            tests.add(DynamicTest.dynamicTest("mix at the word's positions", () -> mix(sd[0])));
            tests.add(DynamicTest.dynamicTest("position scale", () -> positions(sd[0])));
            tests.add(DynamicTest.dynamicTest("identity edits leave the generation bit for bit", () -> identity(sd[0])));
            tests.add(DynamicTest.dynamicTest("--edit on a text encoder layer", () -> moduleEdit(sd[0])));
            tests.add(DynamicTest.dynamicTest("mistakes", () -> mistakes(sd[0])));
            tests.add(DynamicTest.dynamicTest("close", () -> sd[0].close()));
            return DynamicContainer.dynamicContainer(model, tests);
        });
    }

    /** What one encoding of {@code prompt} (and with CFG the negative "") shows at {@code points}, per encoder. */
    private record Encoding(Map<String, float[]> cond, Map<String, float[]> uncond, float[] embeds) {
    }

    private static Encoding encode(StableDiffusion sd, String prompt, List<TextEdit> edits, String... points) {
        Map<String, float[]> cond = new HashMap<>();
        Map<String, float[]> uncond = new HashMap<>();
        List<ModulePath> at = new ArrayList<>();
        for (Component c : ModelHooks.of(sd).components()) {
            if (c.isText()) {
                for (String p : points) {
                    at.add(new ModulePath(c, p));
                }
            }
        }
        TextEdits resolved = edits.isEmpty() ? TextEdits.none()
                : TextEdits.resolve(sd.prompts(), sd.prompts().textsRead(List.of(prompt), null), edits);
        try (ModelScope scope = ModelScope.open(ModelHooks.of(sd)); NDManager m = sd.manager().newSubManager()) {
            resolved.install(scope);
            scope.capture(at, Capture.Rows.ALL, c -> (c.rows().getFirst().branch() == Branch.COND ? cond : uncond)
                    .put(c.point(), c.value().toFloatArray()));
            Conditioning pos = sd.prompts().encode(m, List.of(prompt), null, 0);
            sd.prompts().negative(m, null, null, pos, false);
            return new Encoding(cond, uncond, pos.promptEmbeds().toFloatArray());
        }
    }

    private static void swap(StableDiffusion sd) {
        Encoding swapped = encode(sd, "a photo of a puppy", List.of(TextEdit.swap("puppy=skunk")), EMBEDDINGS);
        Encoding skunk = encode(sd, "a photo of a skunk", List.of(), EMBEDDINGS);
        Encoding puppy = encode(sd, "a photo of a puppy", List.of(), EMBEDDINGS);
        assertThat(swapped.cond()).isNotEmpty();
        swapped.cond().forEach((point, v) -> assertThat(v).as(point).isEqualTo(skunk.cond().get(point)));
        assertThat(swapped.embeds()).as("prompt embeds").isEqualTo(skunk.embeds());
        assertThat(swapped.embeds()).isNotEqualTo(puppy.embeds());
        swapped.uncond().forEach((point, v) -> assertThat(v).as("negative " + point).isEqualTo(puppy.uncond().get(point)));
    }

    private static void mix(StableDiffusion sd) {
        String prompt = "a puppy and a puppy";
        Encoding mixed = encode(sd, prompt, List.of(TextEdit.mix("puppy=0.6*puppy+0.4*skunk")), TOKENS);
        Encoding puppy = encode(sd, prompt, List.of(), TOKENS);
        Encoding skunk = encode(sd, "a skunk and a skunk", List.of(), TOKENS);
        for (String point : mixed.cond().keySet()) {
            float[] got = mixed.cond().get(point);
            float[] p = puppy.cond().get(point);
            float[] s = skunk.cond().get(point);
            int d = got.length / 77;
            for (int i = 0; i < got.length; i++) {
                int pos = i / d;
                float want = pos == 2 || pos == 5 ? 0.6f * p[i] + 0.4f * s[i] : p[i];     // <start> a puppy and a puppy
                assertThat(got[i]).as(point + " position " + pos).isEqualTo(want);
            }
        }
    }

    private static void positions(StableDiffusion sd) {
        String prompt = "a puppy";
        Encoding plain = encode(sd, prompt, List.of(), POSITIONS, TOKENS, EMBEDDINGS);
        Encoding dropped = encode(sd, prompt, List.of(TextEdit.positionScale("0")), POSITIONS, TOKENS, EMBEDDINGS);
        Encoding some = encode(sd, prompt, List.of(TextEdit.positionScale("0.5@1-2")), POSITIONS);
        for (String point : dropped.cond().keySet()) {
            if (point.endsWith(EMBEDDINGS)) {
                String c = point.substring(0, point.indexOf(':'));
                assertThat(dropped.cond().get(point)).as("without positions the input is the token embeddings")
                        .isEqualTo(plain.cond().get(c + ":" + TOKENS));
            }
            if (point.endsWith(POSITIONS)) {
                float[] p = plain.cond().get(point);
                float[] half = some.cond().get(point);
                int d = p.length / 77;
                for (int i = 0; i < p.length; i++) {
                    int pos = i / d;
                    assertThat(half[i]).as(point + " position " + pos).isEqualTo(pos == 1 || pos == 2 ? p[i] * 0.5f : p[i]);
                }
                assertThat(dropped.uncond().get(point)).as("negative side").isEqualTo(plain.uncond().get(point));
            }
        }
    }

    private static GenerationRequest request(String prompt) {
        return Tiny.request(prompt).steps(2).build();
    }

    private static void identity(StableDiffusion sd) {
        GenerationRequest r = request("a puppy on the grass");
        GenerationResult plain = new Pipeline(sd).generate(r);
        List<TextEdit> text = List.of(TextEdit.swap("puppy=puppy"), TextEdit.mix("puppy=1*puppy"),
                TextEdit.positionScale("1"), TextEdit.positionScale("1@0-5"));
        List<Edit> edits = List.of(Edit.parse("text_encoder:text_model.encoder.layers.0:scale=1"));
        try (Intervention iv = Intervention.prepare(sd, r, edits, text)) {
            GenerationResult edited = iv.generate(null, null, Progress.NONE);
            assertThat(edited.finalLatents().toFloats()).isEqualTo(plain.finalLatents().toFloats());
            assertThat(edited.images().getFirst().rgb()).isEqualTo(plain.images().getFirst().rgb());
        }
        try (Intervention iv = Intervention.prepare(sd, r, List.of(), List.of(TextEdit.swap("puppy=skunk")))) {
            assertThat(iv.generate(null, null, Progress.NONE).finalLatents().toFloats())
                    .as("a real swap changes the image").isNotEqualTo(plain.finalLatents().toFloats());
        }
    }

    /**
     * {@code --edit} on a text encoder's layer: zeroing layer 0 on the conditional rows makes layer 1's conditional output
     * the same for any prompt, and leaves the negative side as it was.
     */
    private static void moduleEdit(StableDiffusion sd) {
        String layer = "text_encoder:text_model.encoder.layers.0";
        Map<String, List<float[]>> seen = new HashMap<>();
        for (String prompt : List.of("a puppy", "a cat on a mat")) {
            List<float[]> values = new ArrayList<>();
            try (Intervention iv = Intervention.prepare(sd, Tiny.request(prompt).steps(1).negativePrompt("blurry").build(),
                    List.of(Edit.parse(layer + ":zero@rows=cond")),
                    List.of()); ModelScope watch = ModelScope.open(ModelHooks.of(sd))) {
                assertThat(iv.edits().resolved()).singleElement().extracting(Edits.Resolved::point).isEqualTo(layer);
                watch.capture(List.of(ModulePath.parse(layer.replace("layers.0", "layers.1"))), Capture.Rows.ALL,
                        c -> values.add(c.value().toFloatArray()));                  // cond, then uncond
                iv.generate(null, null, Progress.NONE);
            }
            seen.put(prompt, values);
        }
        assertThat(seen.get("a puppy")).hasSize(2);
        assertThat(seen.get("a puppy").get(0)).isEqualTo(seen.get("a cat on a mat").get(0));
        assertThat(seen.get("a puppy").get(1)).isNotEqualTo(seen.get("a puppy").get(0));
    }

    private static void mistakes(StableDiffusion sd) {
        GenerationRequest r = request("a puppy");
        assertThat(fails(sd, r, List.of(), List.of(TextEdit.swap("puppy=skunks")))).containsPattern("'skunks' is \\d tokens \\(\\S+ ");
        assertThat(fails(sd, r, List.of(), List.of(TextEdit.swap("kitten=skunk")))).contains("the prompt has no 'kitten'");
        assertThat(fails(sd, r, List.of(), List.of(TextEdit.positionScale("0@80")))).contains("out of range");
        assertThat(fails(sd, r, List.of(Edit.parse("text_encoder:text_model.encoder.layers.0:zero@steps=1")), List.of()))
                .contains("steps= selects sampling steps");
        assertThat(fails(sd, r, List.of(Edit.parse("vae:decoder.up_blocks.0:zero")), List.of())).contains("unetlens vae");
        GenerationRequest layered = request("a (~: IN01: skunk :~) puppy");
        assertThat(fails(sd, layered, List.of(), List.of(TextEdit.swap("puppy=skunk")))).contains("layer prompts");
        assertThat(catchThrowableOfType(UnetlensException.class, () -> TextEdit.mix("puppy=0.6*puppy 0.4*skunk"))
                .getMessage()).contains("cannot read");
    }

    private static String fails(StableDiffusion sd, GenerationRequest r, List<Edit> edits, List<TextEdit> text) {
        UnetlensException e = catchThrowableOfType(UnetlensException.class, () -> Intervention.prepare(sd, r, edits, text).close());
        assertThat(e).as("refused").isNotNull();
        assertThat(e.getMessage()).doesNotContain("\n");
        return e.getMessage();
    }
}
