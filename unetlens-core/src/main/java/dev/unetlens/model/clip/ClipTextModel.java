package dev.unetlens.model.clip;

import ai.djl.ndarray.NDArray;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.model.HookTable;
import dev.unetlens.model.Linear;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;
import dev.unetlens.model.unet.HookShape;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.List;

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

    /**
     * Every hook point's shape for {@code batch} sequences of {@code tokens} ids, from the config (no weights read):
     * [B, T, D] but the MLP's {@code fc1} [B, T, I], the attention probabilities [B, N, T, T], the position
     * embedding [1, T, D] (the positions are the same for every row) and {@code text_projection} [B, P].
     */
    public List<HookShape> shapes(long batch, long tokens) {
        List<HookShape> out = new ArrayList<>();
        for (HookTable.PointInfo p : hooks.points()) {
            String n = p.name();
            if (n.isEmpty()) {
                continue;                                                      // the root emits no tensor of its own
            }
            long[] s = n.endsWith(":probs") ? new long[] {batch, config.heads(), tokens, tokens}
                    : n.endsWith(".fc1") ? new long[] {batch, tokens, config.intermediateSize()}
                    : n.endsWith(".position_embedding") ? new long[] {1, tokens, config.hiddenSize()}
                    : n.equals("text_projection") ? new long[] {batch, config.projectionDim()}
                    : new long[] {batch, tokens, config.hiddenSize()};
            out.add(new HookShape(n, p.module().typeName(), new Shape(s)));
        }
        return out;
    }

    /**
     * The stages of the text side, in order: the input embeddings (token + position), each encoder layer's output,
     * the final LayerNorm's output (and, with a projection, {@code text_projection}).
     */
    public List<String> stages() {
        List<String> out = new ArrayList<>(List.of("text_model.embeddings"));
        for (int i = 0; i < config.layers(); i++) {
            out.add(layer(i));
        }
        out.add("text_model.final_layer_norm");
        if (textProjection != null) {
            out.add("text_projection");
        }
        return out;
    }

    /** The hook point of encoder layer {@code i} (0-based): {@code hidden_states[i + 1]}. */
    public static String layer(int i) {
        return "text_model.encoder.layers." + i;
    }

    /**
     * The position of a sequence of ids [T] whose final state is the pooled output: the first end token (transformers'
     * rule, see {@link ClipTextOutput#pooled()}).
     */
    public int pooledPosition(long[] ids) {
        return textModel.pooledPosition(ids);
    }

    /** The token embedding table [V, D] (rows by token id). */
    public NDArray tokenEmbeddingTable() {
        return textModel.tokenEmbeddingTable();
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
