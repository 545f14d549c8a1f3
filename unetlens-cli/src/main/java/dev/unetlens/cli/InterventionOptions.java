package dev.unetlens.cli;

import dev.unetlens.UnetlensException;
import dev.unetlens.intervene.Edit;
import dev.unetlens.intervene.Intervention;
import dev.unetlens.intervene.Recording;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.Progress;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** {@code --edit} and the source run of {@code patch} edits, shared by {@code generate}, {@code diff} and {@code sweep}. */
public final class InterventionOptions {
    // lines of up to 80 characters: picocli would wrap the example inside its numbers
    @Option(names = "--edit", paramLabel = "EDIT", description = {
        "Change module outputs; repeatable. TARGET:OP[@QUALIFIERS], for example",
        "  mid_block:scale=0.5@steps=1-10,channels=0-31,box=0.25,0.25,0.75,0.75",
        "TARGET: IN05, M00, IN00-OUT11(+2), mid_block, down_blocks[1].attentions[0],",
        "  …attn2:probs, a text encoder's module (text_encoder:text_model.encoder.layers.3;",
        "  no steps=, box= or patch there), or a list.",
        "OP: zero, scale=K, add=X|FILE.npy, replace=X|FILE.npy, patch (copy from the",
        "  --source-* run), steer=FILE.npy[*A] (A times a vector along the channels).",
        "QUALIFIERS: steps=1,5-20(+5) (from 1), channels=0-31,64 (from 0),",
        "  box=X0,Y0,X1,Y1 (fractions of the map), mask=FILE.png (white = edited),",
        "  rows=all|cond|uncond."})
    List<String> edits = new ArrayList<>();

    @Option(names = "--source-prompt", paramLabel = "TEXT",
            description = "Patch edits copy from a run of this prompt (default: the run's own prompt).")
    String sourcePrompt;

    @Option(names = "--source-negative-prompt", paramLabel = "TEXT",
            description = "The source run's negative prompt (default: the run's own).")
    String sourceNegative;

    @Option(names = "--source-seed", paramLabel = "S", description = "The source run's seed (default: the run's own).")
    Long sourceSeed;

    /** The parsed edits (files read now). */
    List<Edit> parse() {
        List<Edit> out = new ArrayList<>();
        for (String e : edits) {
            out.add(Edit.parse(e));
        }
        return out;
    }

    boolean hasSource() {
        return sourcePrompt != null || sourceNegative != null || sourceSeed != null;
    }

    /** The source run: {@code r} with the source options applied. */
    GenerationRequest sourceRequest(GenerationRequest r) {
        GenerationRequest.Builder b = r.toBuilder();
        if (sourcePrompt != null) {
            b.prompts(Collections.nCopies(r.prompts().size(), sourcePrompt));
        }
        if (sourceNegative != null) {
            b.negativePrompts(List.of(sourceNegative));
        }
        if (sourceSeed != null) {
            b.seed(sourceSeed);
        }
        return b.build();
    }

    /** Fails early when patch edits lack a source run, or a source run is given without patch edits. */
    void checkSource(List<Edit> parsed) {
        boolean patches = parsed.stream().anyMatch(e -> e.op() == Edit.Op.PATCH);
        if (patches && !hasSource()) {
            throw new UnetlensException("'patch' edits copy from another run; say which with --source-prompt, "
                    + "--source-negative-prompt or --source-seed");
        }
        if (!patches && hasSource()) {
            throw new UnetlensException("--source-prompt/--source-negative-prompt/--source-seed describe the run 'patch' edits copy from;"
                    + " no --edit uses patch");
        }
    }

    /** Runs the source request recording what {@code iv}'s patch edits need; null when it has none. */
    Recording recordSource(Intervention iv, Progress progress) {
        if (iv.patchPoints().isEmpty()) {
            return null;
        }
        return iv.recordSource(sourceRequest(iv.request()), progress);
    }
}
