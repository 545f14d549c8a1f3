package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.model.TorchRuntime;
import dev.unetlens.model.check.KernelChecks;

import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.clip.ClipTextOutput;
import dev.unetlens.model.vae.AutoencoderKL;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;

/**
 * The child JVM of {@link MklKernelsGoldenTest}: MKL's kernels as {@code -Dunetlens.mkl} asks, set before any
 * product, then every golden U-Net timestep case, every text encoder case with ids (last hidden state, pooled) and
 * every VAE case (encoder moments, decoder output). Prints {@code mkl <record>}, then per fixture array
 * {@code array <file> <max |ours − fixture|> <max |fixture|> <hash of our float bits>}, then
 * {@code rerouted <products the kernel checks found wrong>}, tab-separated.
 */
public final class MklKernelsCheck {
    private MklKernelsCheck() {
    }

    public static void main(String[] args) {
        try (NDManager first = TorchRuntime.newBaseManager()) {      // libtorch loaded, MKL not yet asked
            System.out.println("mkl\t" + TorchRuntime.mkl());
        }
        for (String model : GoldenUNets.models()) {
            Golden.get().entries("unet").filter(e -> model.equals(e.model())).forEach(e -> {
                Matcher t = UNet2DConditionModelGoldenTest.TIMESTEP_DIR.matcher(e.file());
                if (t.matches()) {
                    String dir = e.file().substring(0, e.file().length() - "out.npy".length());
                    long timestep = UNet2DConditionModelGoldenTest.timestep(e, t.group(2));
                    try (NDManager m = GoldenUNets.MANAGER.newSubManager()) {
                        Map<String, NDArray> ours = UNet2DConditionModelGoldenTest.timestepOutputs(model, dir, timestep, m);
                        ours.forEach((file, a) -> System.out.println(line(file, a.toFloatArray(),
                                GoldenModels.load(m, file).toFloatArray())));
                    }
                }
            });
        }
        textEncoders();
        vaes();
        System.out.println("rerouted\t" + KernelChecks.verdicts().stream().filter(v -> !v.rejected().isEmpty()).count());
    }

    /** Every text encoder case with recorded ids: the last hidden state and the pooled output. */
    private static void textEncoders() {
        Golden g = Golden.get();
        for (String kind : List.of("text_encoder", "text_encoder_2")) {
            for (String model : g.modelsWith(kind)) {
                DiffusersFolder folder = DiffusersFolder.open(g.path("models/" + model));
                try (NDManager m = GoldenUNets.MANAGER.newSubManager(); TensorSource src = folder.openWeights(kind, null)) {
                    ClipTextModel encoder = ClipTextModel.load(src, ClipTextConfig.read(folder.config(kind)), m);
                    for (String ids : GoldenModels.caseFiles(model, kind)) {
                        if (ids.endsWith("_input_ids.npy")) {
                            String prefix = ids.substring(0, ids.length() - "input_ids.npy".length());
                            ClipTextOutput out = encoder.forward(GoldenModels.load(m, ids));
                            print(m, prefix + "last_hidden_state.npy", out.lastHiddenState());
                            print(m, prefix + "pooler_output.npy", out.pooled());
                        }
                    }
                }
            }
        }
    }

    /** Every VAE case: the encoder's moments and the decoder's output. */
    private static void vaes() {
        Golden g = Golden.get();
        for (String model : g.modelsWith("vae")) {
            DiffusersFolder folder = DiffusersFolder.open(g.path("models/" + model));
            String dir = "cases/" + model + "/vae/";
            try (NDManager m = GoldenUNets.MANAGER.newSubManager(); TensorSource src = folder.openWeights("vae", null)) {
                AutoencoderKL vae = AutoencoderKL.load(src, VaeConfig.read(folder.config("vae")), m);
                print(m, dir + "enc_moments.npy", vae.encodeMoments(GoldenModels.load(m, dir + "image.npy")));
                print(m, dir + "dec_out.npy", vae.decode(GoldenModels.load(m, dir + "latent.npy")));
            }
        }
    }

    private static void print(NDManager m, String file, NDArray ours) {
        System.out.println(line(file, ours.toFloatArray(), GoldenModels.load(m, file).toFloatArray()));
    }

    private static String line(String file, float[] ours, float[] fixture) {
        double diff = 0;
        double ref = 0;
        for (int i = 0; i < ours.length; i++) {
            diff = Math.max(diff, Math.abs((double) ours[i] - fixture[i]));
            ref = Math.max(ref, Math.abs(fixture[i]));
        }
        return String.format(Locale.ROOT, "array\t%s\t%.6g\t%.6g\t%d", file, diff, ref, Arrays.hashCode(ours));
    }
}
