package dev.unetlens.io.ldm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.clip.ClipTextOutput;
import dev.unetlens.model.vae.AutoencoderKL;
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
 * The text encoder and VAE built from each golden single file, with the configs of the diffusers folder it was
 * made from (LDM cannot express the tiny model, README §15), reproduce the golden outputs: the float32 file the
 * model's own fixtures ({@code cases/<model>/text_encoder}, {@code vae}: "their float32 outputs equal the
 * tiny-sd15 fixtures"), a half-precision file the {@code cases/<model>/half_weights/*_<variant>_weights.npy}
 * fixtures, which differ from the float32 ones by far more than the tolerance. Tolerance: atol 1e-5, rtol 1e-4
 * (README §9 for single modules, §15 for the half-weight cases).
 */
class SingleFileModelGoldenTest {
    static final double ATOL = 1e-5;
    static final double RTOL = 1e-4;
    private static final NDManager MANAGER = NDManager.newBaseManager();

    @AfterAll
    static void close() {
        MANAGER.close();
    }

    @TestFactory
    Stream<DynamicNode> models() {
        return GoldenSingleFiles.all().stream().map(f -> {
            List<DynamicNode> tests = new ArrayList<>();
            String cases = "cases/" + f.model() + "/";
            if (f.variant() == null) {
                for (String ids : GoldenModels.caseFiles(f.model(), "text_encoder")) {
                    if (ids.endsWith("_input_ids.npy")) {
                        String prefix = ids.substring(0, ids.length() - "input_ids.npy".length());
                        tests.add(DynamicTest.dynamicTest("text encoder " + prefix.substring(prefix.lastIndexOf('/') + 1),
                                () -> textEncoder(f, ids, prefix)));
                    }
                }
                tests.add(DynamicTest.dynamicTest("vae encode", () -> vaeEncode(f, cases + "vae/")));
                tests.add(DynamicTest.dynamicTest("vae decode", () -> vaeDecode(f, cases + "vae/latent.npy",
                        cases + "vae/dec_out.npy")));
            } else {
                for (String fixture : GoldenModels.caseFiles(f.model(), "half_weights")) {
                    String name = fixture.substring(fixture.lastIndexOf('/') + 1);
                    String suffix = "_" + f.variant() + "_weights.npy";
                    if (name.startsWith("text_encoder_") && name.endsWith("_last_hidden_state" + suffix)) {
                        String prompt = name.substring("text_encoder_".length(), name.length()
                                - ("_last_hidden_state" + suffix).length());
                        tests.add(DynamicTest.dynamicTest("text encoder " + prompt + " (" + f.variant() + " weights)",
                                () -> halfTextEncoder(f, cases + "text_encoder/" + prompt + "_input_ids.npy", fixture)));
                    } else if (name.equals("vae_dec_out" + suffix)) {
                        tests.add(DynamicTest.dynamicTest("vae decode (" + f.variant() + " weights)",
                                () -> vaeDecode(f, cases + "vae/latent.npy", fixture)));
                    }
                }
            }
            assertThat(tests).as("golden cases for " + f.label()).isNotEmpty();
            return DynamicContainer.dynamicContainer(f.label(), tests);
        });
    }

    private static ClipTextModel textEncoder(SingleFileCheckpoint ckpt, GoldenSingleFiles f) {
        CheckpointConfigs configs = CheckpointConfigs.read(f.folder());
        ClipTextConfig config = ClipTextConfig.from(configs.json(LdmComponent.TEXT_ENCODER));
        return ClipTextModel.load(ckpt.component(LdmComponent.TEXT_ENCODER), config, MANAGER);
    }

    private static AutoencoderKL vae(SingleFileCheckpoint ckpt, GoldenSingleFiles f) {
        CheckpointConfigs configs = CheckpointConfigs.read(f.folder());
        return AutoencoderKL.load(ckpt.component(LdmComponent.VAE), VaeConfig.from(configs.json(LdmComponent.VAE)), MANAGER);
    }

    private static void textEncoder(GoldenSingleFiles f, String ids, String prefix) {
        try (SingleFileCheckpoint ckpt = f.open(); NDManager m = MANAGER.newSubManager()) {
            ClipTextOutput out = textEncoder(ckpt, f).forward(GoldenModels.load(m, ids));
            assertClose(prefix + "last_hidden_state.npy", out.lastHiddenState(), ATOL, RTOL);
            assertClose(prefix + "hidden_states.npy",
                    NDArrays.stack(new NDList(out.hiddenStates().toArray(NDArray[]::new)), 0), ATOL, RTOL);
            assertClose(prefix + "pooler_output.npy", out.pooled(), ATOL, RTOL);
        }
    }

    private static void halfTextEncoder(GoldenSingleFiles f, String ids, String fixture) {
        try (SingleFileCheckpoint ckpt = f.open(); NDManager m = MANAGER.newSubManager()) {
            assertClose(fixture, textEncoder(ckpt, f).forward(GoldenModels.load(m, ids)).lastHiddenState(), ATOL, RTOL);
        }
    }

    private static void vaeEncode(GoldenSingleFiles f, String dir) {
        try (SingleFileCheckpoint ckpt = f.open(); NDManager m = MANAGER.newSubManager()) {
            assertClose(dir + "enc_moments.npy", vae(ckpt, f).encodeMoments(GoldenModels.load(m, dir + "image.npy")),
                    ATOL, RTOL);
        }
    }

    private static void vaeDecode(GoldenSingleFiles f, String latent, String expected) {
        try (SingleFileCheckpoint ckpt = f.open(); NDManager m = MANAGER.newSubManager()) {
            assertClose(expected, vae(ckpt, f).decode(GoldenModels.load(m, latent)), ATOL, RTOL);
        }
    }
}
