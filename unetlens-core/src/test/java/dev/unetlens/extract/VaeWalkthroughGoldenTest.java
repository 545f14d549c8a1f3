package dev.unetlens.extract;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.golden.Close;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.unet.HookShape;
import dev.unetlens.model.vae.AutoencoderKL;
import dev.unetlens.model.vae.DiagonalGaussian;
import org.junit.jupiter.api.AfterAll;
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

/**
 * What {@code unetlens vae} walks through ({@link VaeWalkthrough}) against the fixtures' VAE cases
 * ({@code cases/<model>/vae}): the encoder's stages of {@code image.npy} and the decoder's of {@code latent.npy}, each
 * against its hook fixture where the set has one ({@code vae/hooks}), every stage once, in order, with the shape
 * {@code inspect --component vae} lists; the posterior's moments and the decoded image against {@code enc_*} and
 * {@code dec_out}. Tolerance: golden README §9, single modules atol 1e-5, rtol 1e-4.
 */
class VaeWalkthroughGoldenTest {
    private static final double ATOL = 1e-5;
    private static final double RTOL = 1e-4;
    private static final NDManager MANAGER = NDManager.newBaseManager();

    @AfterAll
    static void close() {
        MANAGER.close();
    }

    @TestFactory
    Stream<DynamicNode> vae() {
        return Golden.get().modelsWith("vae").stream().map(model -> {
            String dir = "cases/" + model + "/vae/";
            AutoencoderKL[] vae = new AutoencoderKL[1];
            List<DynamicNode> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest("load", () -> vae[0] = load(model)));
            tests.add(DynamicTest.dynamicTest("encoder", () -> encoder(vae[0], dir)));
            tests.add(DynamicTest.dynamicTest("decoder", () -> decoder(vae[0], dir)));
            return DynamicContainer.dynamicContainer(model, tests);
        });
    }

    private static AutoencoderKL load(String model) {
        DiffusersFolder folder = DiffusersFolder.open(Golden.get().path("models/" + model));
        try (TensorSource src = folder.openWeights("vae", null)) {
            return AutoencoderKL.load(src, VaeConfig.read(folder.config("vae")), MANAGER);
        }
    }

    private static void encoder(AutoencoderKL vae, String dir) {
        try (NDManager m = MANAGER.newSubManager()) {
            NDArray image = GoldenModels.load(m, dir + "image.npy");
            List<VaeWalkthrough.Stage> stages = new ArrayList<>();
            DiagonalGaussian post = new VaeWalkthrough(vae).encode(image, stages::add);
            long[] s = image.getShape().getShape();
            int compared = check(dir, stages, vae.encoderStages(), shapes(vae, s[2], s[3]));
            assertThat(compared).as("encoder hook fixtures compared").isEqualTo(hookFixtures(dir, "encoder."));
            GoldenModels.assertClose(dir + "enc_mean.npy", post.mean(), ATOL, RTOL);
            GoldenModels.assertClose(dir + "enc_logvar.npy", post.logvar(), ATOL, RTOL);
            GoldenModels.assertClose(dir + "enc_std.npy", post.std(), ATOL, RTOL);
        }
    }

    private static void decoder(AutoencoderKL vae, String dir) {
        try (NDManager m = MANAGER.newSubManager()) {
            NDArray z = GoldenModels.load(m, dir + "latent.npy");
            List<VaeWalkthrough.Stage> stages = new ArrayList<>();
            NDArray out = new VaeWalkthrough(vae).decode(z, stages::add);
            long[] s = z.getShape().getShape();
            int compared = check(dir, stages, vae.decoderStages(), shapes(vae, s[2] * vae.downscale(), s[3] * vae.downscale()));
            assertThat(compared).as("decoder hook fixtures compared")
                    .isEqualTo(hookFixtures(dir, "decoder.") + hookFixtures(dir, "post_quant_conv"));
            GoldenModels.assertClose(dir + "dec_out.npy", out, ATOL, RTOL);
        }
    }

    private static Map<String, long[]> shapes(AutoencoderKL vae, long h, long w) {
        Map<String, long[]> out = new HashMap<>();
        for (HookShape s : vae.shapes(1, h, w)) {
            out.put(s.name(), s.shape().getShape());
        }
        return out;
    }

    /** How many hook fixtures of the case start with {@code prefix} (none where the set has no VAE hooks). */
    private static int hookFixtures(String dir, String prefix) {
        if (!Golden.get().exists(dir + "hooks")) {
            return 0;
        }
        return (int) GoldenModels.caseFiles(dir.split("/")[1], "vae/hooks").stream()
                .filter(f -> f.substring(f.lastIndexOf('/') + 1).startsWith(prefix)).count();
    }

    /**
     * Every stage once, in order, with its listed shape; and its values where the fixtures hold them. Returns how many
     * stages had a fixture.
     */
    private static int check(String dir, List<VaeWalkthrough.Stage> got, List<String> stages, Map<String, long[]> shapes) {
        int compared = 0;
        assertThat(got).extracting(VaeWalkthrough.Stage::point).containsExactlyElementsOf(stages);
        for (VaeWalkthrough.Stage s : got) {
            assertThat(s.index()).isEqualTo(stages.indexOf(s.point()));
            assertThat(s.shape()).as(s.point()).containsExactly(shapes.get(s.point()));
            String fixture = dir + "hooks/" + s.point() + ".npy";
            if (Golden.get().exists(fixture)) {
                Close.assertClose(fixture, s.shape(), s.values(), Golden.get().npy(fixture), ATOL, RTOL);
                compared++;
            }
        }
        return compared;
    }
}
