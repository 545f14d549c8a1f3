package dev.unetlens;

/**
 * The rules that keep every error message one short line, whatever a file holds: text that comes from a file or
 * from the user (tensor names, config values, keys) is {@link #quote}d, which escapes it and shortens it, and every
 * {@link UnetlensException} passes its message through {@link #line}, which escapes line breaks and cuts what is
 * still too long.
 */
public final class Messages {
    /** The longest message {@link #line} lets through; longer ones lose their middle. */
    public static final int MAX_LENGTH = 1000;
    /** The longest quoted text; longer text keeps its start and its end. */
    static final int MAX_QUOTED = 120;

    private Messages() {
    }

    /**
     * {@code text} in single quotes, shortened to {@value #MAX_QUOTED} characters (its start and end, with the
     * length) and escaped: line breaks, other control characters and unpaired surrogates as {@code \n},
     * {@code \\uXXXX}.
     */
    public static String quote(String text) {
        if (text == null) {
            return "null";
        }
        return "'" + shorten(escape(shorten(text, MAX_QUOTED)), MAX_QUOTED) + "'";
    }

    /** A value from a file (a JSON node, a number) as it reads there, shortened and escaped like {@link #quote}. */
    public static String value(Object v) {
        return shorten(escape(shorten(String.valueOf(v), MAX_QUOTED)), MAX_QUOTED);
    }

    /** A shape as {@code [2, 3]}, shortened like {@link #quote} (a file may give a tensor 1024 dimensions). */
    public static String shape(long[] shape) {
        return shorten(java.util.Arrays.toString(shape), MAX_QUOTED);
    }

    /** The message as one line of at most {@value #MAX_LENGTH} characters. */
    public static String line(String message) {
        return shorten(escape(shorten(message == null ? "" : message, 2 * MAX_LENGTH)), MAX_LENGTH);
    }

    /** Line breaks, other control characters and unpaired surrogates escaped, so that the text stays on one line. */
    public static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else if (c == '\n') {
                b.append("\\n");
            } else if (c == '\r') {
                b.append("\\r");
            } else if (c == '\t') {
                b.append("\\t");
            } else if (c == '\0') {
                b.append("\\0");
            } else if (Character.isISOControl(c) || Character.isSurrogate(c) || c == '\u2028' || c == '\u2029') {
                b.append(String.format("\\u%04X", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** {@code s} if it has at most {@code max} characters, else its start and end around a note of its length. */
    static String shorten(String s, int max) {
        if (s.length() <= max) {
            return s;
        }
        String note = "…(" + s.length() + " chars)…";
        int keep = Math.max(0, max - note.length());
        int head = keep * 3 / 4;
        int tail = keep - head;
        return safeCut(s, 0, head) + note + safeCut(s, s.length() - tail, s.length());
    }

    /** {@code s.substring(from, to)} without splitting a surrogate pair at either end. */
    private static String safeCut(String s, int from, int to) {
        if (from > 0 && from < s.length() && Character.isLowSurrogate(s.charAt(from))) {
            from++;
        }
        if (to > from && to < s.length() && Character.isLowSurrogate(s.charAt(to))) {
            to--;
        }
        return s.substring(from, Math.max(from, to));
    }
}
