package dev.unetlens.cli;

import dev.unetlens.synth.SyntheticModel;

import java.nio.file.Path;

/** The bundled tiny SD 1.5-structured model (its seed), written into a test's folder. */
final class TinyModel {
    private TinyModel() {
    }

    /** Writes it as {@code dir/tiny-sd15} and returns that folder. */
    static Path write(Path dir) {
        Path model = dir.resolve("tiny-sd15");
        SyntheticModel.TINY_SD15.write(model, 20241);
        return model;
    }
}
