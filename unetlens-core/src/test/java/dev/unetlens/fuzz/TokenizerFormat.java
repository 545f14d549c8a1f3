package dev.unetlens.fuzz;

import dev.unetlens.tokenizer.ClipTokenizer;
import dev.unetlens.tokenizer.TokenizedPrompt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One file of the tokenizer folder edited: {@code vocab.json}, {@code tokenizer_config.json} and
 * {@code special_tokens_map.json} with a JSON edit, {@code merges.txt} with a text edit, or an
 * {@code added_tokens.json} added; the tokenizer loaded and a prompt encoded; one case in six loads the whole folder
 * (which checks the tokenizer against its text encoder) and generates.
 */
final class TokenizerFormat implements FuzzFormat {
    private static final List<String> FILES = List.of("vocab.json", "merges.txt", "tokenizer_config.json",
            "special_tokens_map.json", "added_tokens.json");
    private static final List<String> KEYS = List.of("model_max_length", "bos_token", "eos_token", "unk_token",
            "pad_token", "added_tokens_decoder", "<|endoftext|>", "</w>");

    private final MicroModel micro;

    TokenizerFormat(MicroModel micro) {
        this.micro = micro;
    }

    @Override
    public String name() {
        return "tokenizer";
    }

    @Override
    public int weight() {
        return 12;
    }

    @Override
    public FuzzCase make(SplittableRandom rnd, Path dir) throws IOException {
        String file = Mutations.pick(rnd, FILES);
        String relative = "tokenizer/" + file;
        StringBuilder note = new StringBuilder(file).append(": ");
        Path model = dir.resolve("model");
        micro.linkFolder(model, relative);
        byte[] bytes = switch (file) {
            case "merges.txt" -> mergesEdit(Files.readString(micro.file(relative)), rnd, note);
            case "added_tokens.json" -> JsonMutations.bytes("{\"<fuzz>\": " + Mutations.hostileValue(rnd) + "}");
            default -> JsonMutations.mutate(Files.readString(micro.file(relative)), rnd, KEYS, note);
        };
        Path target = model.resolve(relative);
        Files.write(target, bytes);
        if (file.equals("added_tokens.json")) {
            note.append(JsonMutations.shortText(new String(bytes, java.nio.charset.StandardCharsets.UTF_8)));
        }
        Path folder = model.resolve("tokenizer");
        FuzzCase.Load load = rnd.nextInt(6) == 0 ? () -> Checks.pipeline(model) : () -> encode(folder);
        return new FuzzCase(note.toString(), List.of(target, folder), load);
    }

    private static void encode(Path folder) {
        ClipTokenizer t = ClipTokenizer.load(folder);
        TokenizedPrompt p = t.encode("a photo of a cat, 日本!! <|endoftext|> " + "very ".repeat(20));
        if (p.inputIds().length != t.modelMaxLength()) {
            throw new AssertionError(p.inputIds().length + " ids for model_max_length " + t.modelMaxLength());
        }
        for (long id : p.inputIds()) {
            if (id < 0 || id > t.maxId()) {
                throw new AssertionError("id " + id + " outside [0, " + t.maxId() + "]");
            }
        }
    }

    /** A merges.txt broken as a hand edit or a transfer breaks it. */
    private static byte[] mergesEdit(String merges, SplittableRandom rnd, StringBuilder note) {
        String[] lines = merges.split("\n", -1);
        int i = 1 + rnd.nextInt(Math.max(1, lines.length - 1));
        String edited = switch (rnd.nextInt(7)) {
            case 0 -> {
                note.append("no #version header");
                yield merges.substring(merges.indexOf('\n') + 1);
            }
            case 1 -> {
                note.append("line ").append(i).append(" of one symbol");
                lines[i] = lines[i].replace(" ", "");
                yield String.join("\n", lines);
            }
            case 2 -> {
                note.append("line ").append(i).append(" of three symbols");
                lines[i] = lines[i] + " x";
                yield String.join("\n", lines);
            }
            case 3 -> {
                note.append("CRLF line ends");
                yield merges.replace("\n", "\r\n");
            }
            case 4 -> {
                note.append("a long line");
                lines[i] = "a ".repeat(1) + "b".repeat(1_000_000);
                yield String.join("\n", lines);
            }
            case 5 -> {
                note.append("merges repeated past the limit");
                yield merges + (merges.substring(merges.indexOf('\n') + 1)).repeat(260);
            }
            default -> null;
        };
        return edited != null ? JsonMutations.bytes(edited) : JsonMutations.textEdit(merges, rnd, note);
    }
}
