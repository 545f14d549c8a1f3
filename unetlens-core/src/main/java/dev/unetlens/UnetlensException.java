package dev.unetlens;

/**
 * The one exception type users see: a single line that names the problem and, where it can, what to do.
 * Subclasses say which stage failed; the CLI prints {@link #getMessage()} alone and exits non-zero. Whatever the
 * caller passes, the message is one line of at most {@value Messages#MAX_LENGTH} characters ({@link Messages#line}).
 */
public class UnetlensException extends RuntimeException {
    public UnetlensException(String message) {
        super(Messages.line(message));
    }

    public UnetlensException(String message, Throwable cause) {
        super(Messages.line(message), cause);
    }

    /**
     * A message laid out on several lines on purpose (a caret under a column of the input): each line is bounded and
     * escaped as {@link Messages#line}, and the first must stand alone.
     */
    protected UnetlensException(String[] lines) {
        super(java.util.Arrays.stream(lines).map(Messages::line).collect(java.util.stream.Collectors.joining("\n")));
    }
}
