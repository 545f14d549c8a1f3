package dev.unetlens;

/**
 * The one exception type users see: a single line that names the problem and, where it can, what to do.
 * Subclasses say which stage failed; the CLI prints {@link #getMessage()} alone and exits non-zero.
 */
public class UnetlensException extends RuntimeException {
    public UnetlensException(String message) {
        super(message);
    }

    public UnetlensException(String message, Throwable cause) {
        super(message, cause);
    }
}
