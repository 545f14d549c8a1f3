package dev.unetlens.cli;

import dev.unetlens.UnetlensException;

/**
 * How many threads libtorch computes with: {@code -Dai.djl.pytorch.num_threads}, else {@code UNETLENS_THREADS}, else
 * every core. Set as DJL's property before the engine loads; waiting threads sleep rather than spin
 * ({@code OMP_WAIT_POLICY=PASSIVE}, see {@code dev.unetlens.model.OpenMp}), so the default degrades gracefully when
 * other work shares the cores.
 */
final class Threads {
    static final String VARIABLE = "UNETLENS_THREADS";
    static final String PROPERTY = "ai.djl.pytorch.num_threads";

    private Threads() {
    }

    /**
     * Sets DJL's thread property, unless given with {@code -D} (the bench gives its cases' JVMs their count so), from
     * {@code env} (the variable's value, or null; checked either way), else to every core; returns the count.
     */
    static int configure(String env) {
        Integer fromEnv = env == null || env.isBlank() ? null : parse(env);
        String property = System.getProperty(PROPERTY);
        int n = property != null ? parse(property)
                : fromEnv != null ? fromEnv : Runtime.getRuntime().availableProcessors();
        System.setProperty(PROPERTY, Integer.toString(n));
        return n;
    }

    /** The thread count configured (after {@link #configure}). */
    static int count() {
        return configure(System.getenv(VARIABLE));
    }

    static int parse(String v) {
        try {
            int n = Integer.parseInt(v.strip());
            if (n >= 1 && n <= 1024) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new UnetlensException(VARIABLE + " must be a whole number of threads from 1, got '" + v + "'");
    }
}
