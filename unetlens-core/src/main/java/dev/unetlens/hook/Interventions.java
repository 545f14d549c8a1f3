package dev.unetlens.hook;

import ai.djl.ndarray.NDArray;

/** Ready-made hooks that change a module's output. Each returns a new tensor; the input is never modified. */
public final class Interventions {
    private Interventions() {
    }

    /** Replaces the output with zeros. */
    public static Hook zero() {
        return (value, ctx) -> value.zerosLike();
    }

    /** Multiplies the output by {@code factor}. */
    public static Hook scale(double factor) {
        return (value, ctx) -> value.mul(factor);
    }

    /** Adds {@code delta} (broadcast against the output's shape). */
    public static Hook add(NDArray delta) {
        return (value, ctx) -> value.add(delta);
    }

    /** Replaces the output with {@code replacement} (same shape). */
    public static Hook replace(NDArray replacement) {
        return (value, ctx) -> replacement;
    }
}
