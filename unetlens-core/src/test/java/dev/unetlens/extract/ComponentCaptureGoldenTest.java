package dev.unetlens.extract;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.golden.Close;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.Component;
import dev.unetlens.hook.ModelHooks;
import dev.unetlens.hook.ModelScope;
import dev.unetlens.hook.ModulePath;
import dev.unetlens.pipeline.StableDiffusion;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@code extract} captures of the text encoders and the VAE (qualified points through a {@link ModelScope}, as
 * {@link ComponentFeatures} and {@link GenerationFeatures} capture them) against the fixtures, on every fixture model:
 * the empty prompt's {@code text_model.final_layer_norm} against {@code text_encoder*}/{@code empty_last_hidden_state};
 * the encoder's points for {@code image.npy} ({@link ComponentFeatures#encode}, the path of {@code extract --images})
 * against {@code vae/hooks} where the set has them, and {@code quant_conv} against {@code enc_moments}; the decoder's
 * points for {@code latent.npy} against {@code vae/hooks} and {@code decoder.conv_out} against {@code dec_out}.
 * Tolerance: golden README §9, single modules atol 1e-5, rtol 1e-4.
 */
class ComponentCaptureGoldenTest {
    private static final double ATOL = 1e-5;
    private static final double RTOL = 1e-4;

    @TestFactory
    Stream<DynamicNode> models() {
        return Golden.get().modelsWith("vae").stream().map(model -> {
            StableDiffusion[] sd = new StableDiffusion[1];
            List<DynamicNode> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest("load", () -> sd[0] = StableDiffusion.load(
                    Golden.get().path("models/" + model), StableDiffusion.Options.DEFAULT)));
            tests.add(DynamicTest.dynamicTest("text encoders", () -> text(sd[0], model)));
            tests.add(DynamicTest.dynamicTest("vae encoder (extract --images)", () -> encoder(sd[0], model)));
            tests.add(DynamicTest.dynamicTest("vae decoder", () -> decoder(sd[0], model)));
            tests.add(DynamicTest.dynamicTest("close", () -> sd[0].close()));
            return DynamicContainer.dynamicContainer(model, tests);
        });
    }

    private static void text(StableDiffusion sd, String model) {
        List<ModulePath> points = new ArrayList<>();
        for (Component c : ModelHooks.of(sd).components()) {
            if (c.isText() && Golden.get().exists(caseDir(model, c) + "/empty_last_hidden_state.npy")) {
                points.add(new ModulePath(c, "text_model.final_layer_norm"));
            }
        }
        assertThat(points).as("text encoders with an empty-prompt fixture").isNotEmpty();
        Map<String, Capture> got = new LinkedHashMap<>();
        Map<String, float[]> values = new LinkedHashMap<>();
        new ComponentFeatures(sd).run(List.of(), points, "", false, (image, c) -> {
            assertThat(image).isEqualTo(-1);
            got.put(c.point(), c);
            values.put(c.point(), c.value().toFloatArray());
        });
        assertThat(got.keySet()).containsExactlyElementsOf(points.stream().map(ModulePath::qualified).toList());
        for (ModulePath p : points) {
            String fixture = caseDir(model, p.component()) + "/empty_last_hidden_state.npy";
            Capture c = got.get(p.qualified());
            Close.assertClose(fixture, Golden.get().npy(fixture).shape(), values.get(p.qualified()), Golden.get().npy(fixture),
                    ATOL, RTOL);
            assertThat(c.rows()).singleElement().satisfies(r -> assertThat(r.prompt()).isZero());
        }
    }

    private static String caseDir(String model, Component c) {
        return "cases/" + model + "/" + c.cliName();
    }

    private static List<ModulePath> vaePoints(StableDiffusion sd, String prefix) {
        return ModelHooks.of(sd).points(Component.VAE).stream()
                .filter(p -> p.value().startsWith(prefix) && !p.value().contains(":")).toList();
    }

    private static void encoder(StableDiffusion sd, String model) {
        String dir = "cases/" + model + "/vae/";
        List<ModulePath> points = new ArrayList<>(vaePoints(sd, "encoder."));
        points.add(new ModulePath(Component.VAE, "quant_conv"));
        Map<String, float[]> got = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (NDManager m = sd.manager().newSubManager()) {
            NDArray image = GoldenModels.load(m, dir + "image.npy");
            new ComponentFeatures(sd).encode(image, 0, points, (i, c) -> {
                got.put(c.point(), c.value().toFloatArray());
                shapes.put(c.point(), c.value().getShape().getShape());
            });
        }
        assertThat(got.keySet()).containsExactlyInAnyOrderElementsOf(points.stream().map(ModulePath::qualified).toList());
        Close.assertClose(dir + "enc_moments.npy", shapes.get("vae:quant_conv"), got.get("vae:quant_conv"),
                Golden.get().npy(dir + "enc_moments.npy"), ATOL, RTOL);
        assertThat(compareHooks(dir, got, shapes)).as("encoder hook fixtures compared").isEqualTo(hookFixtures(model, "encoder."));
    }

    private static void decoder(StableDiffusion sd, String model) {
        String dir = "cases/" + model + "/vae/";
        List<ModulePath> points = new ArrayList<>(vaePoints(sd, "decoder."));
        points.add(new ModulePath(Component.VAE, "post_quant_conv"));
        Map<String, float[]> got = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (NDManager m = sd.manager().newSubManager(); ModelScope scope = ModelScope.open(ModelHooks.of(sd))) {
            NDArray latent = GoldenModels.load(m, dir + "latent.npy");
            scope.capture(points, Capture.Rows.ALL, c -> {
                got.put(c.point(), c.value().toFloatArray());
                shapes.put(c.point(), c.value().getShape().getShape());
            });
            sd.vae().decode(latent);
        }
        assertThat(got.keySet()).containsExactlyInAnyOrderElementsOf(points.stream().map(ModulePath::qualified).toList());
        Close.assertClose(dir + "dec_out.npy", shapes.get("vae:decoder.conv_out"), got.get("vae:decoder.conv_out"),
                Golden.get().npy(dir + "dec_out.npy"), ATOL, RTOL);
        assertThat(compareHooks(dir, got, shapes)).as("decoder hook fixtures compared")
                .isEqualTo(hookFixtures(model, "decoder.") + hookFixtures(model, "post_quant_conv"));
    }

    /** How many of the model's VAE hook fixtures start with {@code prefix} (none where the set has no VAE hooks). */
    private static int hookFixtures(String model, String prefix) {
        if (!Golden.get().exists("cases/" + model + "/vae/hooks")) {
            return 0;
        }
        return (int) GoldenModels.caseFiles(model, "vae/hooks").stream()
                .filter(f -> f.substring(f.lastIndexOf('/') + 1).startsWith(prefix)).count();
    }

    /** Each capture that has a fixture in {@code vae/hooks} (named without the component) matches it; returns how many. */
    private static int compareHooks(String dir, Map<String, float[]> got, Map<String, long[]> shapes) {
        int compared = 0;
        for (var e : got.entrySet()) {
            String fixture = dir + "hooks/" + e.getKey().substring("vae:".length()) + ".npy";
            if (Golden.get().exists(fixture)) {
                Close.assertClose(fixture, shapes.get(e.getKey()), e.getValue(), Golden.get().npy(fixture), ATOL, RTOL);
                compared++;
            }
        }
        return compared;
    }
}
