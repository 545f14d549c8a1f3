package dev.unetlens.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.Messages;
import dev.unetlens.config.ConfigException;

/**
 * A token matched verbatim in the raw prompt before any clean-up: transformers {@code AddedToken}. The special
 * tokens (bos, eos, unk, pad) are always added tokens, so with SD 2.x's pad token {@code "!"} every {@code !} of a
 * prompt becomes token 0 unsplit rather than going through BPE (the golden {@code "Hello, World!"} case).
 *
 * @param content    the exact text
 * @param lstrip     whether it swallows the whitespace on its left
 * @param rstrip     whether it swallows the whitespace on its right
 * @param singleWord whether it only counts as a whole word (glued back onto an adjacent non-space piece)
 */
public record AddedToken(String content, boolean lstrip, boolean rstrip, boolean singleWord) {
    public AddedToken {
        if (content == null || content.isEmpty()) {
            throw new IllegalArgumentException("an added token needs non-empty content");
        }
    }

    /** A token without stripping, as {@code CLIPTokenizer} wraps a plain-string special token. */
    public static AddedToken of(String content) {
        return new AddedToken(content, false, false, false);
    }

    /**
     * A token as a tokenizer file writes it: a plain string, or an object {@code {"content": "!", "lstrip": false,
     * "rstrip": false, "single_word": false, ...}} (also with {@code "__type": "AddedToken"}); {@code normalized}
     * and {@code special} change nothing in the slow tokenizer's path and are ignored.
     */
    static AddedToken parse(JsonNode node, String source, String field) {
        if (node.isTextual() && !node.asText().isEmpty()) {
            return of(node.asText());
        }
        JsonNode content = node.get("content");
        if (!node.isObject() || content == null || !content.isTextual() || content.asText().isEmpty()) {
            throw ConfigException.at(source, field + " must be a string or an object with a non-empty \"content\","
                    + " got " + Messages.value(node));
        }
        return new AddedToken(content.asText(), flag(node, "lstrip", source, field),
                flag(node, "rstrip", source, field), flag(node, "single_word", source, field));
    }

    private static boolean flag(JsonNode node, String key, String source, String field) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw ConfigException.at(source, field + "." + key + " must be true or false, got " + Messages.value(v));
        }
        return v.asBoolean();
    }
}
