package dev.unetlens.fuzz;

import dev.unetlens.io.SafetensorsFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A component's {@code config.json} ({@code unet}, {@code vae} or {@code text_encoder}) with one JSON edit
 * ({@link JsonMutations}), its model built from it with the component's weights; one case in eight loads the whole
 * folder and generates.
 */
final class ConfigFormat implements FuzzFormat {
    /** Keys worth adding: ones the readers know, or refuse by name. */
    private static final List<String> KEYS = List.of("time_embedding_dim", "num_attention_heads",
            "reverse_transformer_layers_per_block", "addition_embed_type", "addition_time_embed_dim",
            "projection_class_embeddings_input_dim", "sample_size", "layers_per_block", "block_out_channels",
            "cross_attention_dim", "transformer_layers_per_block", "architectures", "max_position_embeddings",
            "vocab_size", "hidden_act", "shift_factor", "latents_mean", "mid_block_add_attention", "use_quant_conv",
            "_class_name", "model_type", "projection_dim", "eos_token_id", "norm_num_groups", "in_channels");

    private final MicroModel micro;
    private final String component;

    ConfigFormat(MicroModel micro, String component) {
        this.micro = micro;
        this.component = component;
    }

    @Override
    public String name() {
        return component.replace('_', '-') + "-config";
    }

    @Override
    public int weight() {
        return 7;
    }

    @Override
    public FuzzCase make(SplittableRandom rnd, Path dir) throws IOException {
        String relative = component + "/config.json";
        StringBuilder note = new StringBuilder();
        byte[] bytes = JsonMutations.mutate(Files.readString(micro.file(relative)), rnd, KEYS, note);
        boolean whole = rnd.nextInt(8) == 0;
        Path config = micro.place(dir, relative, bytes, whole);
        Path model = dir.resolve("model");
        String weights = micro.files().stream().map(p -> micro.folder.relativize(p).toString())
                .filter(f -> f.startsWith(component + "/") && f.endsWith(".safetensors")).findFirst().orElseThrow();
        Path weightFile = whole ? model.resolve(weights) : micro.file(weights);
        FuzzCase.Load load = whole ? () -> Checks.pipeline(model) : () -> loadComponent(config, weightFile);
        return new FuzzCase(note.toString(), List.of(config, weightFile), load);
    }

    private void loadComponent(Path config, Path weights) {
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            switch (component) {
                case "unet" -> Checks.unet(f, dev.unetlens.config.UNetConfig.read(config));
                case "vae" -> Checks.vae(f, dev.unetlens.config.VaeConfig.read(config));
                default -> Checks.textEncoder(f, dev.unetlens.config.ClipTextConfig.read(config));
            }
        }
    }
}
