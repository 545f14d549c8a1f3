package dev.unetlens.io.ldm;

/** The weight-carrying parts of a Stable Diffusion checkpoint, named as diffusers names their folders. */
public enum LdmComponent {
    UNET("unet"),
    VAE("vae"),
    /** CLIP ViT-L/14 (SD 1.x, SDXL base) or OpenCLIP ViT-H/14 without projection (SD 2.x). */
    TEXT_ENCODER("text_encoder"),
    /** OpenCLIP ViT-bigG/14 with projection (SDXL base and refiner). */
    TEXT_ENCODER_2("text_encoder_2");

    private final String folder;

    LdmComponent(String folder) {
        this.folder = folder;
    }

    /** The diffusers folder name ({@code text_encoder_2}). */
    public String folder() {
        return folder;
    }

    @Override
    public String toString() {
        return folder;
    }
}
