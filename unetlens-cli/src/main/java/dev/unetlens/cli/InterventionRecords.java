package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.intervene.Edits;
import dev.unetlens.intervene.Intervention;
import dev.unetlens.intervene.LayerPrompts;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.RunRecords;

import java.io.PrintStream;
import java.util.List;

/** How layer prompts and edits are written into manifests, and the warnings they print. */
final class InterventionRecords {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private InterventionRecords() {
    }

    /** Adds {@code layer_prompts}, {@code edits} and {@code source_request} (when patching) to {@code m}. */
    static void describe(ObjectNode m, Intervention iv, GenerationRequest source) {
        if (iv.layerPrompts() != null) {
            m.set("layer_prompts", layerPrompts(iv.layerPrompts()));
        }
        if (!iv.edits().isEmpty()) {
            m.set("edits", edits(iv.edits()));
        }
        if (source != null) {
            m.set("source_request", RunRecords.request(source));
        }
    }

    static ObjectNode layerPrompts(LayerPrompts lp) {
        ObjectNode n = JSON.objectNode();
        n.put("note", "each block's cross-attention (attn2) reads the encoding of its own text; blocks without"
                + " cross-attention read no text, so their text has no effect; SDXL's pooled embeds and time ids stay"
                + " the plain prompt's");
        ArrayNode plain = n.putArray("plain_prompts");
        lp.plainRequest().prompts().forEach(plain::add);
        ArrayNode blocks = n.putArray("blocks");
        for (LayerPrompts.Block b : lp.blocks()) {
            ObjectNode o = blocks.addObject();
            o.put("block", b.block());
            o.put("module", b.module());
            o.put("reads_text", b.readsText());
            ArrayNode attn = o.putArray("cross_attention");
            b.crossAttention().forEach(attn::add);
            ArrayNode p = o.putArray("prompts");
            b.prompts().forEach(p::add);
            if (b.negativePrompts() != null) {
                ArrayNode q = o.putArray("negative_prompts");
                b.negativePrompts().forEach(q::add);
            }
            o.put("differs_from_plain", b.changed());
        }
        ArrayNode none = n.putArray("no_effect");
        lp.ineffective().forEach(none::add);
        return n;
    }

    static ArrayNode edits(Edits e) {
        ArrayNode a = JSON.arrayNode();
        for (Edits.Resolved r : e.resolved()) {
            ObjectNode o = a.addObject();
            o.put("edit", r.edit().describe());
            o.put("point", r.point());
            ArrayNode shape = o.putArray("shape");
            for (long s : r.shape()) {
                shape.add(s);
            }
        }
        return a;
    }

    /** Warns about blocks a layer prompt names that read no text. */
    static void warn(Intervention iv, PrintStream err) {
        if (iv.layerPrompts() == null) {
            return;
        }
        List<String> none = iv.layerPrompts().ineffective();
        if (!none.isEmpty()) {
            err.println("unetlens: warning: " + String.join(", ", none) + (none.size() == 1 ? " has" : " have")
                    + " no cross-attention; a layer prompt there has no effect");
        }
    }
}
