package dev.unetlens.fuzz;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/** {@code model_index.json} with one JSON edit; the whole folder loaded and a picture generated. */
final class ModelIndexFormat implements FuzzFormat {
    private static final List<String> KEYS = List.of("_class_name", "force_zeros_for_empty_prompt", "text_encoder_2",
            "tokenizer_2", "unet", "scheduler");

    private final MicroModel micro;

    ModelIndexFormat(MicroModel micro) {
        this.micro = micro;
    }

    @Override
    public String name() {
        return "model-index";
    }

    @Override
    public int weight() {
        return 3;
    }

    @Override
    public FuzzCase make(SplittableRandom rnd, Path dir) throws IOException {
        StringBuilder note = new StringBuilder();
        Path model = micro.linkFolder(dir.resolve("model"), "model_index.json");
        String base = Files.readString(micro.file("model_index.json"));
        if (rnd.nextInt(3) == 0) {
            base = base.replace("StableDiffusionPipeline", "StableDiffusionXLPipeline");
            note.append("XL: ");
        }
        Files.write(model.resolve("model_index.json"), JsonMutations.mutate(base, rnd, KEYS, note));
        return new FuzzCase(note.toString(), List.of(model), () -> Checks.pipeline(model));
    }
}
