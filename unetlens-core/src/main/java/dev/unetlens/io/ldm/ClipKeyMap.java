package dev.unetlens.io.ldm;

import dev.unetlens.io.TensorInfo;

import java.util.List;
import java.util.Map;

/**
 * The transformers CLIP text model inside an LDM checkpoint (SD 1.x {@code cond_stage_model.transformer.}, SDXL
 * {@code conditioner.embedders.0.transformer.}): its keys are already the transformers keys, so, as in diffusers
 * v0.27.2 {@code create_text_encoder_from_ldm_clip_checkpoint} ({@code LDM_CLIP_PREFIX_TO_REMOVE}), removing the
 * prefix is the whole mapping. The saved {@code position_ids} buffer is no weight (the positions are 0..T−1) and is
 * left out, as transformers does when it loads.
 *
 * <p>One rule beyond diffusers: SD 1.x files saved by transformers versions whose CLIPTextModel keys lacked the
 * {@code text_model.} level ({@code embeddings.*}, {@code encoder.*}, {@code final_layer_norm.*}; the NovelAI
 * lineage) get it back, as A1111's {@code checkpoint_dict_replacements} and kohya's
 * {@code TEXT_ENCODER_KEY_REPLACEMENTS} do. diffusers would leave that encoder randomly initialised; here loading
 * it would otherwise fail.
 */
final class ClipKeyMap {
    static final String POSITION_IDS = "text_model.embeddings.position_ids";
    private static final List<String> LEGACY = List.of("embeddings.", "encoder.", "final_layer_norm.");

    private ClipKeyMap() {
    }

    static void map(Map<String, TensorInfo> keys, RemappedSource.Builder out) {
        for (String key : keys.keySet()) {
            String name = LEGACY.stream().anyMatch(key::startsWith) ? "text_model." + key : key;
            if (name.equals(POSITION_IDS)) {
                out.ignore(key, "the position-ids buffer (0..T-1), not a weight; transformers drops it on load");
            } else {
                out.rename(key, name);
            }
        }
    }
}
