package dev.unetlens.lora;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.JsonConfig;

import java.util.Iterator;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The alphas of a diffusers/PEFT LoRA, which stores no {@code .alpha} tensors: diffusers (0.34 and later) writes each
 * component's PEFT {@code LoraConfig} into the safetensors metadata {@code lora_adapter_metadata} as one JSON object
 * with keys {@code unet.lora_alpha}, {@code unet.alpha_pattern}, {@code unet.use_rslora}, {@code text_encoder.…}.
 * PEFT scales a module by {@code lora_alpha / r} ({@code lora_alpha / √r} with rsLoRA), {@code alpha_pattern}
 * overriding the alpha of modules whose name ends in one of its keys (regular expressions, as PEFT matches them).
 * Without the metadata the scale is 1, as diffusers loads such files (alpha = rank).
 */
final class PeftAlphas {
    /** The metadata key diffusers' {@code save_lora_weights} writes. */
    static final String METADATA_KEY = "lora_adapter_metadata";

    private final String file;
    private final JsonNode config;

    private PeftAlphas(String file, JsonNode config) {
        this.file = file;
        this.config = config;
    }

    /** The configs in {@code metadata}, or none. */
    static PeftAlphas of(String file, Map<String, String> metadata) {
        String raw = metadata.get(METADATA_KEY);
        if (raw == null) {
            return new PeftAlphas(file, null);
        }
        JsonConfig c;
        try {
            c = JsonConfig.parse(file + " [metadata " + METADATA_KEY + "]", raw);
        } catch (UnetlensException e) {
            throw new UnetlensException(file + ": the safetensors metadata " + Messages.quote(METADATA_KEY) + " is not"
                    + " the JSON object diffusers writes (" + Messages.value(e.getMessage()) + ")", e);
        }
        return new PeftAlphas(file, c.node());
    }

    /**
     * The factor {@code alpha / r} (or {@code alpha / √r}) PEFT gives module {@code name} of a component whose keys
     * in the metadata start with {@code prefix} ({@code unet}, {@code text_encoder}), or empty if the metadata does
     * not say.
     */
    OptionalDouble scale(String prefix, String name, long rank) {
        if (config == null || !config.has(prefix + ".lora_alpha")) {
            return OptionalDouble.empty();
        }
        double alpha = number(prefix + ".lora_alpha", config.get(prefix + ".lora_alpha"));
        JsonNode patterns = config.get(prefix + ".alpha_pattern");
        if (patterns != null && patterns.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = patterns.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> p = it.next();
                if (matches(p.getKey(), name)) {
                    alpha = number(prefix + ".alpha_pattern." + p.getKey(), p.getValue());
                    break;
                }
            }
        }
        boolean rs = config.path(prefix + ".use_rslora").asBoolean(false);
        return OptionalDouble.of(alpha / (rs ? Math.sqrt(rank) : rank));
    }

    /**
     * PEFT's pattern match: the whole name, or a suffix after a dot, matches the key as a regular expression; a
     * pattern that backtracks for more than a million character reads is refused rather than left to run for hours.
     */
    private boolean matches(String key, String name) {
        if (key.equals(name)) {
            return true;
        }
        try {
            return Pattern.compile("(.*\\.)?(" + key + ")").matcher(new Budgeted(name)).matches();
        } catch (PatternSyntaxException | StackOverflowError | Budgeted.Spent e) {
            throw new UnetlensException(file + ": the alpha_pattern key " + Messages.quote(key) + " in the metadata "
                    + Messages.quote(METADATA_KEY) + " is not a regular expression PEFT could match in time");
        }
    }

    /** A name whose characters may be read a million times in all: a bound on regular-expression backtracking. */
    private static final class Budgeted implements CharSequence {
        static final class Spent extends RuntimeException {
            Spent() {
                super(null, null, false, false);
            }
        }

        private final String s;
        private final long[] left;

        Budgeted(String s) {
            this(s, new long[] {1_000_000});
        }

        private Budgeted(String s, long[] left) {
            this.s = s;
            this.left = left;
        }

        @Override
        public char charAt(int i) {
            if (--left[0] < 0) {
                throw new Spent();
            }
            return s.charAt(i);
        }

        @Override
        public int length() {
            return s.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new Budgeted(s.substring(start, end), left);
        }

        @Override
        public String toString() {
            return s;
        }
    }

    private double number(String key, JsonNode v) {
        if (v == null || !v.isNumber() || !Double.isFinite(v.asDouble())) {
            throw new UnetlensException(file + ": " + key + " in the metadata " + Messages.quote(METADATA_KEY)
                    + " is " + Messages.value(String.valueOf(v)) + ", not a finite number");
        }
        return v.asDouble();
    }
}
