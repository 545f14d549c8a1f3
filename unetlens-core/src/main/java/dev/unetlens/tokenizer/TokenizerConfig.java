package dev.unetlens.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.Messages;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.ConfigException;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.config.Range;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The special tokens, added tokens and length limit of a tokenizer folder, resolved with the precedence of
 * transformers {@code PreTrainedTokenizerBase._from_pretrained}:
 * <ul>
 *   <li>{@code tokenizer_config.json} gives {@code bos_token}, {@code eos_token}, {@code unk_token},
 *       {@code pad_token} and {@code model_max_length};</li>
 *   <li>if it has {@code added_tokens_decoder} (files saved by transformers ≥ 4.34), that map (id → token) is the
 *       added-token table and {@code special_tokens_map.json} is not read;</li>
 *   <li>otherwise (legacy files) each entry of {@code special_tokens_map.json} overrides the config's, and
 *       {@code added_tokens.json} (token → id), when present, is the added-token table;</li>
 *   <li>a special token named nowhere takes {@code CLIPTokenizer.__init__}'s default.</li>
 * </ul>
 *
 * @param bos            start of sequence, default {@code <|startoftext|>}
 * @param eos            end of sequence, default {@code <|endoftext|>}
 * @param unk            the token of ids unknown to the vocabulary, default {@code <|endoftext|>}
 * @param pad            padding, default {@code <|endoftext|>} (SD 2.x and SDXL's second tokenizer use {@code !})
 * @param addedTokens    added tokens with an explicit id (textual-inversion tokens, saved specials)
 * @param modelMaxLength sequence length after padding / truncation, bos and eos included; default 77, the CLIP
 *                       text encoder's {@code max_position_embeddings}
 */
public record TokenizerConfig(AddedToken bos, AddedToken eos, AddedToken unk, AddedToken pad,
                              Map<Integer, AddedToken> addedTokens, int modelMaxLength) {
    public static final int CLIP_MAX_LENGTH = 77;
    /**
     * bos + eos at least; at most the longest text encoder unetlens builds ({@link ClipTextConfig#POSITIONS}). A
     * pipeline also checks it against its encoder's {@code max_position_embeddings}.
     */
    public static final Range MODEL_MAX_LENGTH = new Range("model_max_length", 2, ClipTextConfig.POSITIONS.max());
    /** Token ids: below the largest vocabulary a text encoder may have ({@link ClipTextConfig#VOCAB_SIZE}). */
    public static final Range TOKEN_ID = new Range("token id", 0, ClipTextConfig.VOCAB_SIZE.max() - 1);

    public TokenizerConfig {
        addedTokens = Map.copyOf(addedTokens);
        MODEL_MAX_LENGTH.check(modelMaxLength);
        addedTokens.keySet().forEach(TOKEN_ID::check);
    }

    /** OpenAI CLIP's tokens with the given pad token ({@code "<|endoftext|>"} for SD 1.x, {@code "!"} for SD 2.x). */
    public static TokenizerConfig clip(String padToken) {
        return new TokenizerConfig(AddedToken.of(ClipVocab.BOS), AddedToken.of(ClipVocab.EOS),
                AddedToken.of(ClipVocab.EOS), AddedToken.of(padToken), Map.of(), CLIP_MAX_LENGTH);
    }

    /** The configuration files of a {@code tokenizer/} folder; every file is optional. */
    public static TokenizerConfig read(Path folder) {
        ObjectNode config = readObject(folder.resolve("tokenizer_config.json"));
        Map<Integer, AddedToken> added = new LinkedHashMap<>();
        String where = folder.resolve("tokenizer_config.json").toString();
        JsonNode decoder = config.get("added_tokens_decoder");
        if (decoder != null && !decoder.isNull()) {
            if (!decoder.isObject()) {
                throw ConfigException.at(where, "added_tokens_decoder must be an object of id → token, got "
                        + Messages.value(decoder));
            }
            for (var e : decoder.properties()) {
                added.put(parseId(e.getKey(), where + ": added_tokens_decoder"),
                        AddedToken.parse(e.getValue(), where, "added_tokens_decoder." + Messages.quote(e.getKey())));
            }
        } else {
            ObjectNode map = readObject(folder.resolve("special_tokens_map.json"));
            map.properties().forEach(e -> config.set(e.getKey(), e.getValue()));
            ObjectNode legacy = readObject(folder.resolve("added_tokens.json"));
            for (var e : legacy.properties()) {
                added.put(parseId(e.getValue().asText(), folder.resolve("added_tokens.json") + ": "
                        + Messages.quote(e.getKey())), AddedToken.of(e.getKey()));
            }
            where = where + " / special_tokens_map.json";
        }
        try {
            return new TokenizerConfig(
                    special(config, "bos_token", ClipVocab.BOS, where),
                    special(config, "eos_token", ClipVocab.EOS, where),
                    special(config, "unk_token", ClipVocab.EOS, where),
                    special(config, "pad_token", ClipVocab.EOS, where),
                    added,
                    new JsonConfig(where, config).integer(MODEL_MAX_LENGTH, CLIP_MAX_LENGTH));
        } catch (ConfigException e) {
            throw e.in(where);
        }
    }

    private static AddedToken special(ObjectNode config, String key, String dflt, String where) {
        JsonNode v = config.get(key);
        if (v == null) {
            return AddedToken.of(dflt);
        }
        if (v.isNull()) {
            throw ConfigException.at(where, key + " is null; a CLIP tokenizer needs one");
        }
        return AddedToken.parse(v, where, key);
    }

    private static int parseId(String text, String where) {
        if (text.matches("[0-9]{1,9}") && TOKEN_ID.contains(Integer.parseInt(text))) {
            return Integer.parseInt(text);
        }
        throw ConfigException.at(where, "id must be an integer in " + TOKEN_ID + ", got " + Messages.quote(text));
    }

    /** The JSON object in {@code file}; an empty one when there is no such file (each file is optional). */
    private static ObjectNode readObject(Path file) {
        if (Files.notExists(file)) {
            return JsonNodeFactory.instance.objectNode();
        }
        if (JsonConfig.readTree(file) instanceof ObjectNode o) {
            return o;
        }
        throw ConfigException.at(file.toString(), "not a JSON object");
    }
}
