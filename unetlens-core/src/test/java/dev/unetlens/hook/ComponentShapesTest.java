package dev.unetlens.hook;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.golden.Golden;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.unet.HookShape;
import dev.unetlens.model.vae.AutoencoderKL;
import dev.unetlens.pipeline.StableDiffusion;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shapes {@code inspect --component} lists, computed from the configs ({@link ClipTextModel#shapes},
 * {@link AutoencoderKL#shapes}), against what a real forward of every golden model's text encoders and VAE hands
 * the hooks — at 77 and fewer tokens, batches of 1 and 2, square and non-square images. Every point must fire
 * (nothing forgot to emit), once, with the listed shape.
 */
class ComponentShapesTest {

    @TestFactory
    Stream<DynamicNode> everyPointFiresWithTheListedShape() {
        return Golden.get().modelsWith("vae").stream().map(model -> {
            List<DynamicNode> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest("text encoders", () -> withModel(model, this::textEncoders)));
            tests.add(DynamicTest.dynamicTest("vae", () -> withModel(model, this::vae)));
            return DynamicContainer.dynamicContainer(model, tests);
        });
    }

    private static void withModel(String model, Consumer<StableDiffusion> test) {
        try (StableDiffusion sd = StableDiffusion.load(Golden.get().path("models/" + model), StableDiffusion.Options.DEFAULT)) {
            test.accept(sd);
        }
    }

    private void textEncoders(StableDiffusion sd) {
        ModelHooks hooks = ModelHooks.of(sd);
        for (Component c : hooks.components()) {
            if (!c.isText()) {
                continue;
            }
            ClipTextModel encoder = sd.prompts().stacks().get(c == Component.TEXT_ENCODER ? 0 : 1).encoder();
            for (long[] bt : new long[][] {{1, 77}, {2, 11}}) {
                try (NDManager m = sd.manager().newSubManager()) {
                    long[] ids = new long[(int) (bt[0] * bt[1])];
                    for (int i = 0; i < ids.length; i++) {
                        ids[i] = 300 + 37L * i % 4000;
                    }
                    NDArray x = m.create(ids, new Shape(bt[0], bt[1]));
                    Map<String, long[]> fired = fire(hooks, c, () -> encoder.forward(x));
                    assertShapes(c, encoder.shapes(bt[0], bt[1]), fired);
                }
            }
        }
    }

    private void vae(StableDiffusion sd) {
        ModelHooks hooks = ModelHooks.of(sd);
        AutoencoderKL vae = sd.vae();
        int f = vae.downscale();
        for (int[] bhw : new int[][] {{1, 16 * f, 16 * f}, {2, 5 * f, 3 * f}}) {
            try (NDManager m = sd.manager().newSubManager()) {
                NDArray image = m.randomUniform(-1, 1, new Shape(bhw[0], 3, bhw[1], bhw[2]));
                NDArray latent = m.randomNormal(new Shape(bhw[0], vae.config().latentChannels(), bhw[1] / f, bhw[2] / f));
                Map<String, long[]> fired = fire(hooks, Component.VAE, () -> {
                    vae.encodeMoments(image);
                    vae.decode(latent);
                });
                assertShapes(Component.VAE, vae.shapes(bhw[0], bhw[1], bhw[2]), fired);
            }
        }
    }

    /** Every point of {@code c} captured through a model scope while {@code forward} runs: qualified name → shape. */
    private static Map<String, long[]> fire(ModelHooks hooks, Component c, Runnable forward) {
        Map<String, long[]> fired = new LinkedHashMap<>();
        try (ModelScope scope = ModelScope.open(hooks)) {
            scope.capture(hooks.points(c), Capture.Rows.ALL, capture -> {
                assertThat(fired).as("fired twice").doesNotContainKey(capture.point());
                fired.put(capture.point(), capture.value().getShape().getShape());
            });
            forward.run();
        }
        return fired;
    }

    private static void assertShapes(Component c, List<HookShape> listed, Map<String, long[]> fired) {
        Map<String, long[]> expected = new LinkedHashMap<>();
        listed.forEach(s -> expected.put(new ModulePath(c, s.name()).qualified(), s.shape().getShape()));
        assertThat(fired.keySet()).as("points that fired").containsExactlyInAnyOrderElementsOf(expected.keySet());
        for (var e : expected.entrySet()) {
            assertThat(fired.get(e.getKey())).as(e.getKey()).containsExactly(e.getValue());
        }
    }
}
