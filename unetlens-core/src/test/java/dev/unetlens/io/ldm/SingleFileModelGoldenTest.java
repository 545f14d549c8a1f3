package dev.unetlens.io.ldm;

import dev.unetlens.config.UNetConfig;
import dev.unetlens.golden.Golden;
import dev.unetlens.model.unet.UNet2DConditionModel;
import dev.unetlens.model.unet.UNetInput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
                for (String out : unetOutputs(f.model())) {
                    tests.add(DynamicTest.dynamicTest("unet " + out.substring(cases.length()),
                            () -> unet(f, cases + "unet/", timestep(out), out)));
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
                    } else if (name.startsWith("unet_") && name.endsWith("_out" + suffix)) {
                        tests.add(DynamicTest.dynamicTest("unet (" + f.variant() + " weights)",
                                () -> unet(f, cases + "unet/", timestep(name), fixture)));
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

    /** The {@code out.npy} of every {@code cases/<model>/unet/t<T>/} directory. */
    private static List<String> unetOutputs(String model) {
        Path unet = Golden.get().path("cases/" + model + "/unet");
        try (Stream<Path> dirs = Files.list(unet)) {
            return dirs.filter(d -> d.getFileName().toString().matches("t\\d+") && Files.exists(d.resolve("out.npy")))
                    .map(d -> "cases/" + model + "/unet/" + d.getFileName() + "/out.npy").sorted().toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The timestep a fixture name carries: {@code t500/out.npy}, {@code unet_t500_out_fp16_weights.npy}. */
    private static int timestep(String name) {
        Matcher m = Pattern.compile("(?:^|[/_])t(\\d+)[/_]").matcher(name);
        assertThat(m.find()).as("timestep in " + name).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static void unet(GoldenSingleFiles f, String inputs, int t, String expected) {
        CheckpointConfigs configs = CheckpointConfigs.read(f.folder());
        try (SingleFileCheckpoint ckpt = f.open(); NDManager m = MANAGER.newSubManager()) {
            UNet2DConditionModel unet = UNet2DConditionModel.load(ckpt.component(LdmComponent.UNET),
                    UNetConfig.from(configs.json(LdmComponent.UNET)), m);
            NDArray out = unet.forward(UNetInput.of(GoldenModels.load(m, inputs + "sample.npy"), t,
                    GoldenModels.load(m, inputs + "encoder_hidden_states.npy")));
            assertClose(expected, out, ATOL, RTOL);
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
