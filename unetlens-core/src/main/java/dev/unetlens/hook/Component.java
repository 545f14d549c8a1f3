package dev.unetlens.hook;

import dev.unetlens.UnetlensException;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The parts of a Stable Diffusion model whose modules have hook points, by their diffusers folder names: a point
 * outside the U-Net is named with its component first, {@code text_encoder:text_model.encoder.layers.3},
 * {@code vae:encoder.down_blocks.2} ({@link ModulePath}); a name without one is the U-Net's.
 */
public enum Component {
    UNET("unet"),
    TEXT_ENCODER("text_encoder"),
    /** SDXL's second text encoder (OpenCLIP bigG with a projection). */
    TEXT_ENCODER_2("text_encoder_2"),
    VAE("vae");

    private final String folder;

    Component(String folder) {
        this.folder = folder;
    }

    /** The diffusers folder name, which is also how names and the CLI spell it. */
    public String cliName() {
        return folder;
    }

    /** Whether this is one of the CLIP text encoders. */
    public boolean isText() {
        return this == TEXT_ENCODER || this == TEXT_ENCODER_2;
    }

    /** The component spelled {@code name} (exactly, as in a qualified module name), if any. */
    public static Optional<Component> find(String name) {
        return Arrays.stream(values()).filter(c -> c.folder.equals(name)).findFirst();
    }

    /** The component a user names (case-insensitive, {@code -} for {@code _}); one line naming the choices if none. */
    public static Component parse(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT).replace('-', '_');
        return find(n).orElseThrow(() -> new UnetlensException("unknown component '" + name.strip()
                + "'; components are " + cliNames()));
    }

    /** "unet, text_encoder, text_encoder_2, vae". */
    public static String cliNames() {
        return String.join(", ", Arrays.stream(values()).map(Component::cliName).toList());
    }

    @Override
    public String toString() {
        return folder;
    }
}
