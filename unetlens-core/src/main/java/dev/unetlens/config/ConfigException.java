package dev.unetlens.config;

import dev.unetlens.UnetlensException;

/**
 * A config file that is missing, malformed, or asks for something unetlens does not implement. A message either
 * already names its file ({@link #at}, {@link JsonConfig#error}) or is a bare rule from a record's constructor
 * ({@code layers_per_block must be in [1, 16], got 0}) that the reader places with {@link #in}.
 */
public final class ConfigException extends UnetlensException {
    private final boolean located;

    /** A bare rule, without the file it applies to. */
    public ConfigException(String message) {
        this(message, null, false);
    }

    /** A bare rule, without the file it applies to. */
    public ConfigException(String message, Throwable cause) {
        this(message, cause, false);
    }

    private ConfigException(String message, Throwable cause, boolean located) {
        super(message, cause);
        this.located = located;
    }

    /** {@code source: detail}: a problem of the file or config {@code source}. */
    public static ConfigException at(String source, String detail) {
        return new ConfigException(source + ": " + detail, null, true);
    }

    /** {@code source: detail}, caused by {@code cause}. */
    public static ConfigException at(String source, String detail, Throwable cause) {
        return new ConfigException(source + ": " + detail, cause, true);
    }

    /** This problem placed in {@code source}: itself when it names its file already, else a copy that does. */
    public ConfigException in(String source) {
        return located ? this : new ConfigException(source + ": " + getMessage(), this, true);
    }
}
