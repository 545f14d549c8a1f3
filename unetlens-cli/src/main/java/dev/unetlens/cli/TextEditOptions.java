package dev.unetlens.cli;

import dev.unetlens.intervene.TextEdit;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/**
 * The deep dive's edits of the text side: token embeddings swapped or mixed, position embeddings scaled or dropped
 * ({@link TextEdit}), shared by {@code generate} and {@code diff}. Module edits of the text encoders are
 * {@code --edit text_encoder:…}.
 */
public final class TextEditOptions {
    @Option(names = "--token-swap", paramLabel = "WORD=OTHER", description = {
        "Give the prompt's token WORD the input embedding of OTHER (each one token),",
        "e.g. puppy=skunk; repeatable. Applies to the prompts, not negative prompts."})
    List<String> swaps = new ArrayList<>();

    @Option(names = "--token-mix", paramLabel = "WORD=MIX", description = {
        "Give WORD a weighted sum of token embeddings, e.g.",
        "  \"puppy=0.6*puppy+0.4*skunk\"; repeatable."})
    List<String> mixes = new ArrayList<>();

    @Option(names = "--position-scale", paramLabel = "K[@POSITIONS]", description = {
        "Multiply the text encoders' position embeddings by K (0 drops them), all",
        "or those at POSITIONS (from 0; 0 is the start token), e.g. 0@1-4."})
    List<String> positions = new ArrayList<>();

    /** The edits in the order of the options: swaps, mixes, position scales. */
    List<TextEdit> parse() {
        List<TextEdit> out = new ArrayList<>();
        swaps.forEach(s -> out.add(TextEdit.swap(s)));
        mixes.forEach(s -> out.add(TextEdit.mix(s)));
        positions.forEach(s -> out.add(TextEdit.positionScale(s)));
        return out;
    }
}
