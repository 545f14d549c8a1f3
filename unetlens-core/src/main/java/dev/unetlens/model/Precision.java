package dev.unetlens.model;

import dev.unetlens.UnetlensException;

import java.util.Locale;

/**
 * The arithmetic of the U-Net's products: {@link #FP32} (the default, what the golden fixtures hold exactly) or
 * {@link #BF16}, an opt-in path where the convolutions, linear layers and attention's two batched products run in
 * bfloat16 with float32 in and out ({@link Bf16}); everything else stays float32 either way.
 */
public enum Precision {
    FP32, BF16;

    /** {@code fp32} or {@code bf16}, as the option takes it and manifests record it. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return label();
    }

    /** The precision named {@code text} (any case); one line naming the choices otherwise. */
    public static Precision parse(String text) {
        for (Precision p : values()) {
            if (p.label().equalsIgnoreCase(text.strip())) {
                return p;
            }
        }
        throw new UnetlensException("--precision must be fp32 or bf16, got '" + text + "'");
    }
}
