package dev.unetlens.io;

import dev.unetlens.UnetlensException;

/** A weight file that breaks a rule of the safetensors format; the message names the file, tensor and rule. */
public final class SafetensorsException extends UnetlensException {
    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
