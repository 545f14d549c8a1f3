package dev.unetlens.lora;

import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A LoRA to merge and its strength: {@code --lora FILE[:SCALE]}, the multiplier A1111 writes as
 * {@code <lora:name:SCALE>} (default 1).
 *
 * @param file  the LoRA weights
 * @param scale the multiplier of its difference, any finite number (negative ones subtract it)
 */
public record LoraSpec(Path file, double scale) {
    public LoraSpec {
        if (!Double.isFinite(scale)) {
            throw new UnetlensException("--lora " + file + ": the scale must be a finite number, got " + scale);
        }
    }

    /**
     * Parses {@code FILE[:SCALE]}: the whole text when it names an existing file (a path may hold colons), else the
     * part after the last colon is the scale.
     */
    public static LoraSpec parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || Files.exists(Path.of(text))) {
            return new LoraSpec(Path.of(text), 1);
        }
        String scale = text.substring(colon + 1).strip();
        try {
            return new LoraSpec(Path.of(text.substring(0, colon)), Double.parseDouble(scale));
        } catch (NumberFormatException e) {
            throw new UnetlensException("--lora " + Messages.quote(text) + ": the scale " + Messages.quote(scale)
                    + " after the last ':' is not a number; write FILE or FILE:SCALE, like style.safetensors:0.8");
        }
    }

    /** The name A1111 gives the network: the file name without its extension. */
    public String name() {
        String n = file.getFileName() == null ? file.toString() : file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot <= 0 ? n : n.substring(0, dot);
    }
}
