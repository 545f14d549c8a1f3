package dev.unetlens.config;

import java.nio.file.Path;
import java.util.Set;

/**
 * transformers {@code CLIPTextConfig}, the fields that change the text encoder's numbers, with transformers'
 * defaults for missing keys.
 *
 * @param hiddenSize            D, width of the token states
 * @param intermediateSize      width of the MLP
 * @param layers                encoder layers L
 * @param heads                 attention heads
 * @param maxPositions          positions (77)
 * @param vocabSize             token-embedding rows
 * @param hiddenAct             {@code quick_gelu} (SD 1.x) or {@code gelu} (SD 2.x, SDXL's encoders)
 * @param layerNormEps          LayerNorm epsilon
 * @param projectionDim         width of {@code text_projection} (CLIPTextModelWithProjection)
 * @param eosTokenId            the pooled output's token: 2 means transformers' legacy rule (argmax of the ids)
 * @param withProjection        CLIPTextModelWithProjection (SDXL's second encoder) rather than CLIPTextModel
 */
public record ClipTextConfig(int hiddenSize, int intermediateSize, int layers, int heads, int maxPositions,
                             int vocabSize, String hiddenAct, double layerNormEps, int projectionDim,
                             long eosTokenId, boolean withProjection) {

    public static final Set<String> ACTIVATIONS = Set.of("quick_gelu", "gelu");

    public ClipTextConfig {
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", layers);
        positive("num_attention_heads", heads);
        positive("max_position_embeddings", maxPositions);
        positive("vocab_size", vocabSize);
        if (hiddenSize % heads != 0) {
            throw new ConfigException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads " + heads);
        }
        if (!ACTIVATIONS.contains(hiddenAct)) {
            throw new ConfigException("hidden_act '" + hiddenAct + "' is not supported (quick_gelu, gelu)");
        }
    }

    private static void positive(String field, int v) {
        if (v <= 0) {
            throw new ConfigException(field + " must be positive, got " + v);
        }
    }

    public static ClipTextConfig read(Path configJson) {
        return from(JsonConfig.read(configJson));
    }

    public static ClipTextConfig from(JsonConfig c) {
        String arch = c.stringList("architectures", java.util.List.of("CLIPTextModel")).getFirst();
        if (!arch.equals("CLIPTextModel") && !arch.equals("CLIPTextModelWithProjection")) {
            throw c.error("architectures", "'" + arch + "' is not a CLIP text model (CLIPTextModel, CLIPTextModelWithProjection)");
        }
        c.requireAbsentOr("model_type", "clip_text_model");
        try {
            return new ClipTextConfig(
                    c.integer("hidden_size", 512),
                    c.integer("intermediate_size", 2048),
                    c.integer("num_hidden_layers", 12),
                    c.integer("num_attention_heads", 8),
                    c.integer("max_position_embeddings", 77),
                    c.integer("vocab_size", 49408),
                    c.choice("hidden_act", "quick_gelu", ACTIVATIONS),
                    c.number("layer_norm_eps", 1e-5),
                    c.integer("projection_dim", 512),
                    c.integer("eos_token_id", 49407),
                    arch.equals("CLIPTextModelWithProjection"));
        } catch (ConfigException e) {
            throw e.getMessage().startsWith(c.source()) ? e : new ConfigException(c.source() + ": " + e.getMessage());
        }
    }

    public int headDim() {
        return hiddenSize / heads;
    }
}
