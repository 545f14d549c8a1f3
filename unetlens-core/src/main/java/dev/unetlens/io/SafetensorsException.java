package dev.unetlens.io;

import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;

/**
 * A weight file that breaks a rule of the safetensors format. The message is one line: the file, the tensor where
 * there is one, what is wrong, and the {@link Rule} it breaks, e.g.
 * {@code /m/unet.safetensors: tensor 'conv_in.bias': data_offsets [0, 60] hold 60 bytes but shape [16] of F32
 * needs 64 [rule: product(shape) * dtype size must equal end - begin]}.
 */
public final class SafetensorsException extends UnetlensException {
    /** The rules of the format (those of the reference reader, {@code safetensors/src/tensor.rs}), and ours. */
    public enum Rule {
        FILE_TOO_SHORT("a safetensors file starts with an 8-byte little-endian header length"),
        HEADER_TOO_LARGE("the header length must be at most " + SafetensorsFile.MAX_HEADER_BYTES + " bytes"),
        HEADER_PAST_END("8 + header length must not exceed the file size"),
        HEADER_NOT_UTF8("the header must be valid UTF-8"),
        HEADER_NOT_JSON("the header must be one JSON value, padded only with JSON whitespace"),
        HEADER_NOT_OBJECT("the header must be a JSON object of tensor entries"),
        DUPLICATE_KEY("keys of a JSON object must be unique"),
        BAD_METADATA("__metadata__ must be an object mapping strings to strings"),
        BAD_NAME("names must not contain NUL or unpaired surrogates"),
        BAD_ENTRY("a tensor entry must be an object with dtype, shape and data_offsets"),
        BAD_DTYPE("dtype must be one of " + java.util.Arrays.toString(DType.values())),
        BAD_SHAPE("shape must be an array of at most " + SafetensorsHeader.MAX_RANK + " integers in [0, 2^63)"),
        BAD_OFFSETS("data_offsets must be [begin, end], integers with 0 <= begin <= end"),
        OVERFLOW("product(shape) * dtype size must not overflow 64 bits"),
        SIZE_MISMATCH("product(shape) * dtype size must equal end - begin"),
        NOT_CONTIGUOUS("data_offsets sorted by begin must be contiguous from 0, without gaps or overlaps"),
        DATA_NOT_COVERED("the tensors must cover the data section exactly, to the last byte of the file"),
        IO("the file must exist and be readable"),
        NO_SUCH_TENSOR("only tensors named in the header can be read"),
        CLOSED("tensors can only be read while their file is open"),
        SHARD_INDEX("a shard index is a JSON object whose weight_map maps tensor names to shard files"),
        SHARD_MISMATCH("each shard must hold exactly the tensors that the index maps to it");

        private final String text;

        Rule(String text) {
            this.text = text;
        }

        /** The rule as a sentence. */
        public String text() {
            return text;
        }
    }

    private final Rule rule;

    /** {@code file: tensor 'name': detail [rule: ...]}; {@code tensor} may be null. */
    public SafetensorsException(Rule rule, String file, String tensor, String detail) {
        this(rule, file, tensor, detail, null);
    }

    public SafetensorsException(Rule rule, String file, String tensor, String detail, Throwable cause) {
        super(file + (tensor == null ? "" : ": tensor " + Messages.quote(tensor)) + ": " + detail
                + " [rule: " + rule.text + "]", cause);
        this.rule = rule;
    }

    /** A message written by a caller; it has no {@link #rule()}. */
    public SafetensorsException(String message) {
        this(message, null);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
        this.rule = null;
    }

    /** The broken rule; null for messages written by callers. */
    public Rule rule() {
        return rule;
    }
}
