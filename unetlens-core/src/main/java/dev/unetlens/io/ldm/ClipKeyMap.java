package dev.unetlens.io.ldm;

import dev.unetlens.io.TensorInfo;

import java.util.Map;

/**
 * The transformers CLIP text model inside an LDM checkpoint (SD 1.x {@code cond_stage_model.transformer.}, SDXL
 * {@code conditioner.embedders.0.transformer.}): its keys are already the transformers keys, so, as in diffusers
 * v0.27.2 {@code create_text_encoder_from_ldm_clip_checkpoint} ({@code LDM_CLIP_PREFIX_TO_REMOVE}), removing the
 * prefix is the whole mapping. The saved {@code position_ids} buffer is no weight (the positions are 0..T−1) and is
 * left out, as transformers does when it loads.
 */
final class ClipKeyMap {
    static final String POSITION_IDS = "text_model.embeddings.position_ids";

    private ClipKeyMap() {
    }

    static void map(Map<String, TensorInfo> keys, RemappedSource.Builder out) {
        for (String key : keys.keySet()) {
            if (key.equals(POSITION_IDS)) {
                out.ignore(key, "the position-ids buffer (0..T-1), not a weight; transformers drops it on load");
            } else {
                out.rename(key, key);
            }
        }
    }
}
