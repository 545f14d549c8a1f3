package dev.unetlens.io.ldm;

import java.util.Map;

import static dev.unetlens.io.ldm.LdmKeySets.Text;
import static dev.unetlens.io.ldm.LdmKeySets.Unet;
import static dev.unetlens.io.ldm.LdmKeySets.Vae;

/**
 * The smallest checkpoints in LDM naming whose configs {@link ConfigInference} can infer (32 GroupNorm groups, SD 1.x's
 * 8 heads, 64-wide heads for SD 2.x and SDXL), for tests outside this package (the loader fuzz test): every key with
 * its shape.
 */
public final class MicroCheckpoints {
    private static final Vae VAE = new Vae(3, 3, 32, new int[] {1}, 1, 4);
    private static final Text CLIP = new Text(64, 1, 16, 32, 8, 0);

    private MicroCheckpoints() {
    }

    /** The keys and shapes of a micro checkpoint of {@code family} (SD1, SD2 or SDXL). */
    public static Map<String, long[]> shapes(LdmFamily family) {
        return switch (family) {
            case SD1 -> ConfigInferenceTest.checkpoint(family,
                    new Unet(4, 4, 32, new int[] {1, 1}, 1, new int[] {1, 0}, 1, 64, false, 0), VAE, CLIP, null);
            case SD2 -> ConfigInferenceTest.checkpoint(family,
                    new Unet(4, 4, 64, new int[] {1}, 1, new int[] {1}, 1, 64, true, 0), VAE,
                    new Text(64, 2, 16, 32, 8, 64), null);
            case SDXL -> ConfigInferenceTest.checkpoint(family,
                    new Unet(4, 4, 64, new int[] {1}, 1, new int[] {1}, 1, 128, true, 64 + 6 * 8), VAE, CLIP,
                    new Text(64, 1, 16, 32, 8, 64));
            case SDXL_REFINER -> throw new IllegalArgumentException("no micro refiner");
        };
    }
}
