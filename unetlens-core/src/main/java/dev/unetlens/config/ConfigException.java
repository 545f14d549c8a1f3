package dev.unetlens.config;

import dev.unetlens.UnetlensException;

/** A config file that is missing, malformed, or asks for something unetlens does not implement. */
public final class ConfigException extends UnetlensException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
