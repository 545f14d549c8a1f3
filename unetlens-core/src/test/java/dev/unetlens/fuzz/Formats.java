package dev.unetlens.fuzz;

import java.util.List;

/** Every format the loader fuzz test mutates. A new reader adds its format here. */
final class Formats {
    private Formats() {
    }

    static List<FuzzFormat> all(MicroModel micro) {
        return List.of(
                new SafetensorsFormat(micro),
                new SingleFileFormat(micro),
                new PickleFormat(micro),
                new TorchZipFormat(micro),
                new LoraFormat(micro),
                new ConfigFormat(micro, "unet"),
                new ConfigFormat(micro, "vae"),
                new ConfigFormat(micro, "text_encoder"),
                new SchedulerFormat(micro),
                new TokenizerFormat(micro),
                new ModelIndexFormat(micro),
                new SpecialFilesFormat(micro));
    }
}
