package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.TensorSource;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The golden models' U-Nets, loaded once per JVM and shared by the U-Net test classes, and their inputs.
 */
final class GoldenUNets {
    /** Owns the loaded weights for the whole test run (the JVM's end frees them). */
    static final NDManager MANAGER = NDManager.newBaseManager();
    private static final Map<String, UNet2DConditionModel> CACHE = new ConcurrentHashMap<>();

    private GoldenUNets() {
    }

    /** Models with U-Net cases ({@code cases/<model>/unet}). */
    static java.util.List<String> models() {
        return Golden.get().modelsWith("unet");
    }

    static UNetConfig config(String model) {
        return UNetConfig.read(folder(model).config("unet"));
    }

    /** The float32 U-Net of {@code models/<model>/unet}. */
    static UNet2DConditionModel load(String model) {
        return load(model, null);
    }

    /** The U-Net with a variant's weights ({@code "fp16"}, {@code "bf16"}; null for float32), widened to float32. */
    static UNet2DConditionModel load(String model, String variant) {
        return CACHE.computeIfAbsent(model + "/" + variant, k -> {
            DiffusersFolder folder = folder(model);
            if (variant != null) {
                Golden.get().use(Golden.get().root().relativize(folder.weightFile("unet", variant)).toString());
            }
            try (TensorSource src = folder.openWeights("unet", variant)) {
                return UNet2DConditionModel.load(src, config(model), MANAGER);
            }
        });
    }

    /** The float32 weights' U-Net with its products in bf16 ({@link dev.unetlens.model.Precision#BF16}). */
    static UNet2DConditionModel loadBf16(String model) {
        return CACHE.computeIfAbsent(model + "/precision bf16", k -> {
            try (TensorSource src = folder(model).openWeights("unet", null)) {
                return UNet2DConditionModel.load(src, config(model), MANAGER, dev.unetlens.model.Precision.BF16);
            }
        });
    }

    static DiffusersFolder folder(String model) {
        return DiffusersFolder.open(Golden.get().path("models/" + model));
    }

    /**
     * The single-row input of {@code cases/<model>/unet/}: sample, text states and, for SDXL, text_embeds and
     * time_ids; arrays live in {@code m}.
     */
    static UNetInput input(NDManager m, String model, double timestep) {
        String dir = "cases/" + model + "/unet/";
        UNetInput in = UNetInput.of(GoldenModels.load(m, dir + "sample.npy"), timestep,
                GoldenModels.load(m, dir + "encoder_hidden_states.npy"));
        if (Golden.get().exists(dir + "text_embeds.npy")) {
            in = in.withAddedCond(GoldenModels.load(m, dir + "text_embeds.npy"), GoldenModels.load(m, dir + "time_ids.npy"));
        }
        return in;
    }

    /** The input rows as one [B, ...] batch of the given rows' arrays. */
    static NDArray cat(NDArray... rows) {
        NDArray out = rows[0];
        for (int i = 1; i < rows.length; i++) {
            out = out.concat(rows[i], 0);
        }
        return out;
    }
}
