package dev.unetlens.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.golden.Capture;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.TensorSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.unetlens.golden.GoldenModels.assertClose;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * AutoencoderKL against {@code cases/<model>/vae}: encoder moments, mean, clamped log-variance, std, the decoder
 * output, and every recorded hook (encoder hooks from encoding {@code image.npy}, decoder hooks from decoding
 * {@code latent.npy}). Tolerance: golden README §9, single modules atol 1e-5, rtol 1e-4.
 */
class AutoencoderKLGoldenTest {
    static final double ATOL = 1e-5;
    static final double RTOL = 1e-4;
    private static final NDManager MANAGER = NDManager.newBaseManager();

    @AfterAll
    static void close() {
        MANAGER.close();
    }

    @TestFactory
    Stream<DynamicNode> vae() {
        Golden g = Golden.get();
        return g.modelsWith("vae").stream().map(model -> {
            AutoencoderKL[] vae = new AutoencoderKL[1];
            String dir = "cases/" + model + "/vae/";
            List<DynamicNode> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest("load", () -> vae[0] = load(model)));
            tests.add(DynamicTest.dynamicTest("encode", () -> encode(vae[0], dir)));
            tests.add(DynamicTest.dynamicTest("decode", () -> decode(vae[0], dir)));
            tests.add(DynamicTest.dynamicTest("every vae fixture used", () ->
                    assertThat(g.unread("vae", model)).isEmpty()));
            return DynamicContainer.dynamicContainer(model, tests);
        });
    }

    static AutoencoderKL load(String model) {
        DiffusersFolder folder = DiffusersFolder.open(Golden.get().path("models/" + model));
        try (TensorSource src = folder.openWeights("vae", null)) {
            return AutoencoderKL.load(src, VaeConfig.read(folder.config("vae")), MANAGER);
        }
    }

    private static List<String> hooks(String dir, String prefix) {
        return GoldenModels.caseFiles(dir.split("/")[1], "vae/hooks").stream()
                .map(f -> f.substring(f.lastIndexOf('/') + 1, f.length() - 4))
                .filter(n -> n.startsWith(prefix)).toList();
    }

    private static void encode(AutoencoderKL vae, String dir) {
        List<String> names = Golden.get().exists(dir + "hooks") ? hooks(dir, "encoder.") : List.of();
        try (NDManager m = MANAGER.newSubManager(); Capture cap = new Capture(vae.hooks(), names)) {
            NDArray image = GoldenModels.load(m, dir + "image.npy");
            NDArray moments = vae.encodeMoments(image);
            assertClose(dir + "enc_moments.npy", moments, ATOL, RTOL);
            DiagonalGaussian post = DiagonalGaussian.of(moments);
            assertClose(dir + "enc_mean.npy", post.mean(), ATOL, RTOL);
            assertClose(dir + "enc_logvar.npy", post.logvar(), ATOL, RTOL);
            assertClose(dir + "enc_std.npy", post.std(), ATOL, RTOL);
            for (String n : names) {
                assertClose(dir + "hooks/" + n + ".npy", cap.get(n), ATOL, RTOL);
            }
        }
    }

    private static void decode(AutoencoderKL vae, String dir) {
        List<String> names = Golden.get().exists(dir + "hooks")
                ? Stream.concat(hooks(dir, "decoder.").stream(), hooks(dir, "post_quant_conv").stream()).toList()
                : List.of();
        try (NDManager m = MANAGER.newSubManager(); Capture cap = new Capture(vae.hooks(), names)) {
            NDArray latent = GoldenModels.load(m, dir + "latent.npy");
            assertClose(dir + "dec_out.npy", vae.decode(latent), ATOL, RTOL);
            for (String n : names) {
                assertClose(dir + "hooks/" + n + ".npy", cap.get(n), ATOL, RTOL);
            }
        }
    }
}
