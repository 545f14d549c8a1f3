package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.intervene.Edits;
import dev.unetlens.intervene.Intervention;
import dev.unetlens.intervene.LayerPrompts;
import dev.unetlens.intervene.TextEdit;
import dev.unetlens.intervene.TextEdits;
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
        if (!iv.textEdits().isEmpty()) {
            m.set("text_edits", textEdits(iv.textEdits()));
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

    /** Each text edit per text encoder: the token replaced, the terms, where the prompts have it. */
    static ArrayNode textEdits(TextEdits e) {
        ArrayNode a = JSON.arrayNode();
        for (TextEdits.Resolved r : e.resolved()) {
            ObjectNode o = a.addObject();
            o.put("edit", r.edit().describe());
            o.put("encoder", r.component().cliName());
            switch (r.edit()) {
                case TextEdit.PositionScale p -> {
                    o.put("point", r.component().cliName() + ":text_model.embeddings.position_embedding");
                    o.put("factor", p.factor());
                    if (p.positions() != null) {
                        o.put("positions", p.positions().describe());
                    }
                }
                case TextEdit.TokenMix mix -> {
                    o.put("point", r.component().cliName() + ":text_model.embeddings.token_embedding");
                    o.put("token", r.token());
                    o.put("id", r.id());
                    ArrayNode terms = o.putArray("terms");
                    for (TextEdits.ResolvedTerm t : r.terms()) {
                        terms.addObject().put("weight", t.weight()).put("token", t.token()).put("id", t.id());
                    }
                    ArrayNode at = o.putArray("replaced_at");
                    r.found().forEach(at::add);
                }
            }
            o.put("applies_to", "the prompts' encodings (conditional rows); negative prompts are encoded unchanged");
        }
        return a;
    }

    /** The run's edits as the command line writes them, for a PNG's parameters. */
    static List<String> summary(Intervention iv) {
        List<String> out = new java.util.ArrayList<>();
        iv.edits().resolved().stream().map(r -> "--edit " + r.edit().describe()).distinct().forEach(out::add);
        out.addAll(iv.textEdits().descriptions());
        return out;
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
