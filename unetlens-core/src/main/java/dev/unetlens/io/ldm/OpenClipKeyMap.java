package dev.unetlens.io.ldm;

import dev.unetlens.io.TensorInfo;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An OpenCLIP text tower (SD 2.x {@code cond_stage_model.model.}, SDXL {@code conditioner.embedders.1.model.},
 * refiner {@code conditioner.embedders.0.model.}) → transformers {@code CLIPTextModel} /
 * {@code CLIPTextModelWithProjection}, as diffusers v0.27.2 {@code create_text_encoder_from_open_clip_checkpoint}
 * maps it ({@code DIFFUSERS_TO_LDM_MAPPING["openclip"]}):
 *
 * <pre>
 * positional_embedding (T, D)                  text_model.embeddings.position_embedding.weight
 * token_embedding.weight (V, D)                text_model.embeddings.token_embedding.weight
 * ln_final.*                                   text_model.final_layer_norm.*
 * text_projection (D, P)                       text_projection.weight (P, D) = its transpose (SDXL only)
 * transformer.resblocks.n.ln_1 / ln_2          text_model.encoder.layers.n.layer_norm1 / layer_norm2
 * transformer.resblocks.n.mlp.c_fc / c_proj    text_model.encoder.layers.n.mlp.fc1 / fc2
 * transformer.resblocks.n.attn.out_proj        text_model.encoder.layers.n.self_attn.out_proj
 * transformer.resblocks.n.attn.in_proj_weight (3D, D)
 *                                              ….self_attn.{q,k,v}_proj.weight: row blocks [0, D), [D, 2D), [2D, 3D)
 * transformer.resblocks.n.attn.in_proj_bias (3D)  ….self_attn.{q,k,v}_proj.bias, the same way
 * </pre>
 * The q/k/v row blocks are contiguous bytes of the fused tensor, so they are views; only the projection's transpose
 * is computed. diffusers splits at {@code text_projection.shape[0]} (D; 1024 when absent); this splits the rows in
 * three, which is the same D for every OpenCLIP tower.
 *
 * <p>Left out, as diffusers leaves them: {@code logit_scale} (CLIP's contrastive temperature), a vision tower
 * ({@code visual.*}), and for SD 2.x ({@code SD_2_TEXT_ENCODER_KEYS_TO_IGNORE}) the text projection and the last
 * resblock: SD 2.x conditions on the penultimate layer (LDM {@code FrozenOpenCLIPEmbedder(layer="penultimate")}), so
 * diffusers' SD 2.x text encoder has one layer fewer. diffusers names resblock 23 of ViT-H's 24; this drops the
 * last one, whatever the depth.
 */
final class OpenClipKeyMap {
    /** {@code DIFFUSERS_TO_LDM_MAPPING["openclip"]["layers"]}, LDM → diffusers, except text_projection. */
    private static final Map<String, String> LAYERS = Map.of(
            "positional_embedding", "text_model.embeddings.position_embedding.weight",
            "token_embedding.weight", "text_model.embeddings.token_embedding.weight",
            "ln_final.weight", "text_model.final_layer_norm.weight",
            "ln_final.bias", "text_model.final_layer_norm.bias");

    /** {@code DIFFUSERS_TO_LDM_MAPPING["openclip"]["transformer"]}, (LDM, diffusers), applied in this order. */
    private static final String[][] TRANSFORMER = {
            {"resblocks.", "text_model.encoder.layers."},
            {"ln_1", "layer_norm1"},
            {"ln_2", "layer_norm2"},
            {".c_fc.", ".fc1."},
            {".c_proj.", ".fc2."},
            {".attn", ".self_attn"},
            {"ln_final.", "transformer.text_model.final_layer_norm."},
            {"token_embedding.weight", "transformer.text_model.embeddings.token_embedding.weight"},
            {"positional_embedding", "transformer.text_model.embeddings.position_embedding.weight"},
    };

    /** The resblock tensors the mapping knows; anything else under {@code transformer.} is unknown. */
    private static final Pattern RESBLOCK = Pattern.compile("transformer\\.resblocks\\.(\\d{1,9})\\.(?:"
            + "(?:ln_1|ln_2|attn\\.out_proj|mlp\\.c_fc|mlp\\.c_proj)\\.(?:weight|bias)|attn\\.in_proj_(?:weight|bias))");

    static final String TEXT_PROJECTION = "text_projection";

    private OpenClipKeyMap() {
    }

    /**
     * @param withProjection CLIPTextModelWithProjection (SDXL): map {@code text_projection}; else ignore it
     * @param dropLastLayer  SD 2.x: leave out the last resblock (the penultimate-layer rule)
     */
    static void map(Map<String, TensorInfo> keys, boolean withProjection, boolean dropLastLayer,
                    RemappedSource.Builder out) {
        int last = dropLastLayer ? lastResblock(keys) : -1;
        for (String key : keys.keySet()) {
            Matcher m = RESBLOCK.matcher(key);
            if (m.matches()) {
                if (Integer.parseInt(m.group(1)) == last) {
                    out.ignore(key, "SD 2.x conditions on the penultimate layer: diffusers drops the last resblock");
                } else {
                    resblock(key, out);
                }
            } else if (LAYERS.containsKey(key)) {
                out.rename(key, LAYERS.get(key));
            } else if (key.equals(TEXT_PROJECTION)) {
                if (withProjection) {
                    out.transpose(key, "text_projection.weight");
                } else {
                    out.ignore(key, "SD 2.x's text encoder is CLIPTextModel, without the projection");
                }
            } else if (key.equals("logit_scale")) {
                out.ignore(key, "CLIP's contrastive temperature, not part of the text encoder");
            } else if (key.startsWith("visual.")) {
                out.ignore(key, "OpenCLIP's vision tower, not part of the text encoder");
            } else {
                out.unknown(key);
            }
        }
    }

    private static void resblock(String key, RemappedSource.Builder out) {
        String name = key.substring("transformer.".length());
        for (String[] r : TRANSFORMER) {
            name = name.replace(r[0], r[1]).replace(".in_proj_weight", "").replace(".in_proj_bias", "");
        }
        if (key.endsWith(".in_proj_weight") || key.endsWith(".in_proj_bias")) {
            String param = key.endsWith("weight") ? "weight" : "bias";
            out.rowBlock(key, name + ".q_proj." + param, 0, 3);
            out.rowBlock(key, name + ".k_proj." + param, 1, 3);
            out.rowBlock(key, name + ".v_proj." + param, 2, 3);
        } else {
            out.rename(key, name);
        }
    }

    /** The highest resblock index present, -1 if none. */
    static int lastResblock(Map<String, ?> keys) {
        int last = -1;
        for (String key : keys.keySet()) {
            Matcher m = RESBLOCK.matcher(key);
            if (m.matches()) {
                last = Math.max(last, Integer.parseInt(m.group(1)));
            }
        }
        return last;
    }
}
