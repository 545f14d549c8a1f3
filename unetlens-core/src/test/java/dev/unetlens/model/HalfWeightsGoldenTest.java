package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.vae.AutoencoderKL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static dev.unetlens.golden.GoldenModels.assertClose;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Text encoder and VAE loaded from diffusers variant files ({@code *.fp16.safetensors}): F16 weights widened to
 * float32 must reproduce {@code cases/<model>/half_weights/{text_encoder,vae}_*_fp16_weights.npy} (README §15).
 * The inputs are named in each index entry's description; the variant comes from the file name. The half-weight
 * results differ from the float32-weight ones by ~3e-3, far above the tolerance (atol 1e-5, rtol 1e-4), so a pass
 * shows the variant was really loaded and widened. (The U-Net's half-weight cases are in the U-Net tests.)
 */
class HalfWeightsGoldenTest {
    static final double ATOL = 1e-5;
    static final double RTOL = 1e-4;
    private static final Pattern INPUT = Pattern.compile("\\.\\./([\\w./-]+\\.npy)");
    private static final Pattern VARIANT = Pattern.compile("_(fp16|bf16)_weights\\.npy$");
    private static final NDManager MANAGER = NDManager.newBaseManager();

    @AfterAll
    static void close() {
        MANAGER.close();
    }

    @TestFactory
    Stream<DynamicNode> halfWeights() {
        Golden g = Golden.get();
        List<DynamicNode> tests = new ArrayList<>();
        for (String kind : List.of("half_weights/text_encoder", "half_weights/vae")) {
            g.entries(kind).forEach(e -> tests.add(DynamicTest.dynamicTest(e.file(), () -> check(e))));
        }
        g.entries("half_weights").forEach(e -> tests.add(DynamicTest.dynamicTest(e.file(), () ->
                assertThat(g.json(e.file()).size()).as("half-weight metadata").isPositive())));
        tests.add(DynamicTest.dynamicTest("every half-weight text encoder / VAE fixture used", () -> {
            assertThat(g.unread("half_weights/text_encoder", null)).isEmpty();
            assertThat(g.unread("half_weights/vae", null)).isEmpty();
        }));
        return tests.stream();
    }

    private static void check(Golden.Entry e) {
        Golden g = Golden.get();
        String caseDir = e.file().substring(0, e.file().lastIndexOf('/') + 1);
        Matcher in = INPUT.matcher(e.node().get("desc").asText());
        assertThat(in.find()).as("input named in the description of " + e.file()).isTrue();
        String input = java.nio.file.Path.of(caseDir, "..", in.group(1)).normalize().toString().replace('\\', '/');
        Matcher v = VARIANT.matcher(e.file());
        assertThat(v.find()).as("variant in the file name").isTrue();
        String variant = v.group(1);
        DiffusersFolder folder = DiffusersFolder.open(g.path("models/" + e.model()));
        String weightsFile = folder.weightFile(e.kind().endsWith("vae") ? "vae" : "text_encoder", variant).toString();
        g.use(g.root().relativize(java.nio.file.Path.of(weightsFile)).toString().replace('\\', '/'));
        try (NDManager m = MANAGER.newSubManager()) {
            NDArray x = GoldenModels.load(m, input);
            NDArray out;
            if (e.kind().endsWith("vae")) {
                try (TensorSource src = folder.openWeights("vae", variant)) {
                    out = AutoencoderKL.load(src, VaeConfig.read(folder.config("vae")), m).decode(x);
                }
            } else {
                try (TensorSource src = folder.openWeights("text_encoder", variant)) {
                    out = ClipTextModel.load(src, ClipTextConfig.read(folder.config("text_encoder")), m)
                            .forward(x).lastHiddenState();
                }
            }
            assertClose(e.file(), out, ATOL, RTOL);
        }
    }
}
