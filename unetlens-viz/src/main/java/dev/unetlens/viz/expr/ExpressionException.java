package dev.unetlens.viz.expr;

import dev.unetlens.UnetlensException;

/**
 * A colour expression that does not parse: the message names the problem and its column, and
 * {@link #pointer()} shows the expression with a caret under that column.
 */
public final class ExpressionException extends UnetlensException {
    private final String source;
    private final int column;

    ExpressionException(String source, int column, String problem) {
        super("column " + column + ": " + problem + " in '" + source + "'");
        this.source = source;
        this.column = column;
    }

    /** The expression as given. */
    public String source() {
        return source;
    }

    /** 1-based column of the problem (one past the end for "ended too early"). */
    public int column() {
        return column;
    }

    /** Two lines: the expression, and a caret under the column. */
    public String pointer() {
        return source + "\n" + " ".repeat(column - 1) + "^";
    }
}
