package dev.unetlens.model.clip;

import ai.djl.ndarray.NDArray;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.model.HookTable;
import dev.unetlens.model.Linear;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;

/**
 * transformers {@code CLIPTextModel}, or {@code CLIPTextModelWithProjection} (SDXL's second encoder, which adds
 * {@code text_projection}). The component root: module paths are the state-dict keys without their
 * {@code .weight} ({@code text_model.encoder.layers.0.self_attn.q_proj}).
 */
public final class ClipTextModel extends Module {
    private final ClipTextConfig config;
    private final ClipTextTransformer textModel;
    private final Linear textProjection;   // null for CLIPTextModel
    private final HookTable hooks;

    public ClipTextModel(Weights w, ClipTextConfig config) {
        super("");
        this.config = config;
        textModel = add(new ClipTextTransformer(w, sub("text_model"), config));
        textProjection = config.withProjection()
                ? add(new Linear(w, sub("text_projection"), config.hiddenSize(), config.projectionDim(), false)) : null;
        hooks = new HookTable(this);
    }

    @Override
    public String typeName() {
        return config.withProjection() ? "CLIPTextModelWithProjection" : "CLIPTextModel";
    }

    public ClipTextConfig config() {
        return config;
    }

    public HookTable hooks() {
        return hooks;
    }

    /** Builds the encoder from {@code source}, failing on any missing, wrongly shaped or unused tensor. */
    public static ClipTextModel load(dev.unetlens.io.TensorSource source, ClipTextConfig config,
                                     ai.djl.ndarray.NDManager manager) {
        return Weights.load(source, manager, "text encoder",
                k -> k.equals("text_model.embeddings.position_ids"),   // a buffer older files saved
                w -> new ClipTextModel(w, config));
    }

    /** The final LayerNorm alone, for prompt embeddings from an earlier layer ({@code clip_skip} in diffusers). */
    public NDArray finalLayerNorm(NDArray hidden) {
        return textModel.finalLayerNorm(hidden);
    }

    /** ids [B, T] int64 (no attention mask, as the SD pipelines call it). */
    public ClipTextOutput forward(NDArray ids) {
        ClipTextOutput out = textModel.forward(ids);
        return textProjection == null ? out : out.withTextEmbeds(textProjection.forward(out.pooled()));
    }
}
