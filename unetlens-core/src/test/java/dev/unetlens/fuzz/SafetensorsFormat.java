package dev.unetlens.fuzz;

import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.io.SafetensorsFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A component's weight file ({@code unet/}, {@code vae/}, {@code text_encoder/}) with its header, length field, tensors
 * or bytes edited ({@link SafetensorsMutations}), loaded into its model with the component's config; one case in
 * eight loads the whole folder and generates.
 */
final class SafetensorsFormat implements FuzzFormat {
    private static final List<String> WEIGHTS = List.of("unet/diffusion_pytorch_model.safetensors",
            "vae/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors");

    private final MicroModel micro;
    private final List<StFile> bases;

    SafetensorsFormat(MicroModel micro) {
        this.micro = micro;
        this.bases = WEIGHTS.stream().map(w -> StFile.read(micro.file(w))).toList();
    }

    @Override
    public String name() {
        return "safetensors";
    }

    @Override
    public int weight() {
        return 26;
    }

    @Override
    public FuzzCase make(SplittableRandom rnd, Path dir) throws IOException {
        int component = rnd.nextInt(WEIGHTS.size());
        String relative = WEIGHTS.get(component);
        StringBuilder note = new StringBuilder(relative).append(": ");
        byte[] bytes = SafetensorsMutations.mutate(bases.get(component), rnd, note);
        boolean whole = rnd.nextInt(8) == 0;
        Path file = micro.place(dir, relative, bytes, whole);
        Path model = dir.resolve("model");
        FuzzCase.Load load = whole ? () -> Checks.pipeline(model) : () -> loadComponent(micro, relative, file);
        return new FuzzCase(note.toString(), List.of(file), load);
    }

    /** Loads {@code file} as the weights of the component {@code relative} names, with the base config. */
    static void loadComponent(MicroModel micro, String relative, Path file) {
        String component = relative.substring(0, relative.indexOf('/'));
        Path config = micro.file(component + "/config.json");
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            switch (component) {
                case "unet" -> Checks.unet(f, UNetConfig.read(config));
                case "vae" -> Checks.vae(f, VaeConfig.read(config));
                default -> Checks.textEncoder(f, ClipTextConfig.read(config));
            }
        }
    }
}
