package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.model.TorchRuntime;
import dev.unetlens.model.check.KernelChecks;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;

/**
 * The child JVM of {@link MklKernelsGoldenTest}: MKL's kernels as {@code -Dunetlens.mkl} asks, set before any
 * product, then every golden U-Net timestep case. Prints {@code mkl <record>}, then per fixture array
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
        System.out.println("rerouted\t" + KernelChecks.verdicts().stream().filter(v -> !v.rejected().isEmpty()).count());
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
