package dev.unetlens.config;

import dev.unetlens.Messages;

import java.nio.file.Path;
import java.util.List;
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
    public static final Range HIDDEN_SIZE = new Range("hidden_size", 1, 16384);
    public static final Range INTERMEDIATE_SIZE = new Range("intermediate_size", 1, 65536);
    public static final Range LAYERS = new Range("num_hidden_layers", 1, 128);
    public static final Range HEADS = new Range("num_attention_heads", 1, 1024);
    public static final Range POSITIONS = new Range("max_position_embeddings", 1, 8192);
    public static final Range VOCAB_SIZE = new Range("vocab_size", 1, 1 << 20);
    public static final Range PROJECTION_DIM = new Range("projection_dim", 1, 16384);
    public static final Range EOS_TOKEN_ID = new Range("eos_token_id", 0, Integer.MAX_VALUE);

    public ClipTextConfig {
        HIDDEN_SIZE.check(hiddenSize);
        INTERMEDIATE_SIZE.check(intermediateSize);
        LAYERS.check(layers);
        HEADS.check(heads);
        POSITIONS.check(maxPositions);
        VOCAB_SIZE.check(vocabSize);
        PROJECTION_DIM.check(projectionDim);
        EOS_TOKEN_ID.check(eosTokenId);
        if (!(layerNormEps > 0) || !Double.isFinite(layerNormEps)) {
            throw new ConfigException("layer_norm_eps must be a positive number, got " + layerNormEps);
        }
        if (hiddenSize % heads != 0) {
            throw new ConfigException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads " + heads);
        }
        if (!ACTIVATIONS.contains(hiddenAct)) {
            throw new ConfigException("hidden_act " + Messages.quote(hiddenAct) + " is not supported (quick_gelu, gelu)");
        }
    }

    public static ClipTextConfig read(Path configJson) {
        return from(JsonConfig.read(configJson));
    }

    public static ClipTextConfig from(JsonConfig c) {
        List<String> architectures = c.stringList("architectures", List.of("CLIPTextModel"));
        String arch = architectures.isEmpty() ? null : architectures.getFirst();
        if (!"CLIPTextModel".equals(arch) && !"CLIPTextModelWithProjection".equals(arch)) {
            throw c.error("architectures", (arch == null ? "is empty"
                    : Messages.quote(arch) + " is not a CLIP text model")
                    + "; it must name CLIPTextModel or CLIPTextModelWithProjection");
        }
        c.requireAbsentOr("model_type", "clip_text_model");
        try {
            return new ClipTextConfig(
                    c.integer(HIDDEN_SIZE, 512),
                    c.integer(INTERMEDIATE_SIZE, 2048),
                    c.integer(LAYERS, 12),
                    c.integer(HEADS, 8),
                    c.integer(POSITIONS, 77),
                    c.integer(VOCAB_SIZE, 49408),
                    c.choice("hidden_act", "quick_gelu", ACTIVATIONS),
                    c.number("layer_norm_eps", 1e-5),
                    c.integer(PROJECTION_DIM, 512),
                    c.integer(EOS_TOKEN_ID, 49407),
                    arch.equals("CLIPTextModelWithProjection"));
        } catch (ConfigException e) {
            throw e.in(c.source());
        }
    }

    public int headDim() {
        return hiddenSize / heads;
    }
}
