package dev.unetlens.io.ldm;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.regex.Pattern;

import static dev.unetlens.io.ldm.ConfigInference.F;

/**
 * The text-encoder part of {@link ConfigInference}: the transformers {@code CLIPTextConfig} that diffusers v0.27.2
 * loads from the hub for each family ({@code create_text_encoder_from_ldm_clip_checkpoint},
 * {@code create_text_encoder_from_open_clip_checkpoint}), with the sizes read off the shapes (width and vocabulary
 * from the token embedding, positions, layers, MLP width; heads are 64 wide) and the rest as in those configs,
 * written as transformers 4.38.2 saves a config.
 */
final class TextConfigInference {
    private static final Pattern RESBLOCK = Pattern.compile("transformer\\.resblocks\\.(\\d{1,9})\\..*");
    /** Also the keys without {@code text_model.} that {@link ClipKeyMap} accepts. */
    private static final Pattern CLIP_LAYER = Pattern.compile("(?:text_model\\.)?encoder\\.layers\\.(\\d{1,9})\\..*");

    private TextConfigInference() {
    }

    /** CLIP ViT-L/14 in transformers naming: openai/clip-vit-large-patch14's text config, sizes from the shapes. */
    static ObjectNode clip(ShapeKeys k) {
        String base = k.has("embeddings.token_embedding.weight") ? "" : "text_model.";
        int hidden = k.dim(base + "embeddings.token_embedding.weight", 1);
        return textConfig(k, "CLIPTextModel", "quick_gelu", hidden,
                k.dim(base + "embeddings.token_embedding.weight", 0),
                k.dim(base + "embeddings.position_embedding.weight", 0),
                k.count(CLIP_LAYER),
                k.dim(base + "encoder.layers.0.mlp.fc1.weight", 0),
                768);
    }

    /**
     * An OpenCLIP text tower as transformers CLIP: stabilityai/stable-diffusion-2's text config (SD 2.x: one layer
     * fewer than the tower, projection_dim 512, unused) or laion's ViT-bigG config with {@code projection_dim} from
     * the projection (SDXL); exact {@code gelu}.
     */
    static ObjectNode openClip(ShapeKeys k, boolean withProjection, boolean dropLastLayer) {
        int hidden = k.dim("token_embedding.weight", 1);
        int blocks = k.count(RESBLOCK);
        return textConfig(k, withProjection ? "CLIPTextModelWithProjection" : "CLIPTextModel", "gelu", hidden,
                k.dim("token_embedding.weight", 0),
                k.dim("positional_embedding", 0),
                dropLastLayer ? blocks - 1 : blocks,
                k.dim("transformer.resblocks.0.mlp.c_fc.weight", 0),
                withProjection ? k.dim(OpenClipKeyMap.TEXT_PROJECTION, 1) : 512);
    }

    private static ObjectNode textConfig(ShapeKeys k, String architecture, String act, int hidden, int vocab,
                                         int positions, int layers, int intermediate, int projection) {
        if (hidden % ConfigInference.HEAD_CHANNELS != 0) {
            throw k.cannot("num_attention_heads", "text width " + hidden + " is not a multiple of the "
                    + ConfigInference.HEAD_CHANNELS + "-wide CLIP heads");
        }
        if (layers < 1) {
            throw k.cannot("num_hidden_layers", "the text encoder has no layers");
        }
        ObjectNode c = F.objectNode();
        c.set("architectures", F.arrayNode().add(architecture));
        c.put("attention_dropout", 0.0);
        c.put("bos_token_id", 0);
        c.put("dropout", 0.0);
        c.put("eos_token_id", 2);
        c.put("hidden_act", act);
        c.put("hidden_size", hidden);
        c.put("initializer_factor", 1.0);
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", intermediate);
        c.put("layer_norm_eps", 1e-5);
        c.put("max_position_embeddings", positions);
        c.put("model_type", "clip_text_model");
        c.put("num_attention_heads", hidden / ConfigInference.HEAD_CHANNELS);
        c.put("num_hidden_layers", layers);
        c.put("output_attentions", false);
        c.put("output_hidden_states", false);
        c.put("pad_token_id", 1);
        c.put("projection_dim", projection);
        c.put("return_dict", true);
        c.put("torch_dtype", "float32");
        c.put("transformers_version", ConfigInference.TRANSFORMERS_VERSION);
        c.put("vocab_size", vocab);
        return ConfigInference.sorted(c);
    }
}
