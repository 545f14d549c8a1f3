package dev.unetlens.intervene;

import dev.unetlens.UnetlensException;

/**
 * A malformed layer prompt. The message is one line that says what is wrong and where (column, and line for
 * prompts with line breaks), followed by the prompt line and a caret under the offending character:
 * <pre>
 * bad layer prompt at column 12: expected ':' after the block names
 *   a (~: IN00 cute :~) girl
 *              ^
 * </pre>
 * The caret needs a line of its own to sit under its character, so the message has three lines; the first
 * stands alone (it names the column) for logs that keep one line. Long lines are cut to a window around the
 * problem, marked with {@code …}.
 */
public final class LayerPromptException extends UnetlensException {
    private static final int WINDOW = 60;
    private final String prompt;
    private final int index;
    private final String reason;

    /**
     * @param prompt the whole prompt
     * @param index  0-based offset of the offending character in {@code prompt} (may be its length: the end)
     * @param reason what is wrong, without position
     */
    public LayerPromptException(String prompt, int index, String reason) {
        super(format(prompt, index, reason).split("\n", -1));
        this.prompt = prompt;
        this.index = index;
        this.reason = reason;
    }

    public String prompt() {
        return prompt;
    }

    /** 0-based offset of the problem in the prompt. */
    public int index() {
        return index;
    }

    /** What is wrong, without position. */
    public String reason() {
        return reason;
    }

    private static String format(String prompt, int index, String reason) {
        int lineStart = prompt.lastIndexOf('\n', index - 1) + 1;
        int lineEnd = prompt.indexOf('\n', index);
        if (lineEnd < 0) {
            lineEnd = prompt.length();
        }
        int line = (int) prompt.substring(0, lineStart).chars().filter(c -> c == '\n').count() + 1;
        int column = index - lineStart + 1;
        String where = line > 1 || lineEnd < prompt.length() ? "line " + line + ", column " + column : "column " + column;
        // the window of the line shown, cut around the problem
        int from = lineStart;
        int to = lineEnd;
        if (to - from > WINDOW) {
            from = Math.max(lineStart, index - WINDOW / 2);
            to = Math.min(lineEnd, from + WINDOW);
            from = Math.max(lineStart, to - WINDOW);
        }
        String lead = from > lineStart ? "…" : "";
        String trail = to < lineEnd ? "…" : "";
        String shown = prompt.substring(from, to).replace('\t', ' ').replace('\r', ' ');
        return "bad layer prompt at " + where + ": " + reason + "\n  " + lead + shown + trail + "\n  "
                + " ".repeat(lead.length() + prompt.codePointCount(from, index)) + "^";
    }
}
