package dev.unetlens.hook;

import dev.unetlens.UnetlensException;

import java.util.ArrayList;
import java.util.List;

/**
 * A module's name in canonical form: its diffusers / PyTorch module path with dots
 * ({@code down_blocks.1.attentions.0.transformer_blocks.0.attn2}), optionally followed by {@code :internal} for a
 * tensor inside the module ({@code …attn2:probs}). Parsed from either spelling, brackets or dots:
 * {@code down_blocks[1].attentions[0]} = {@code down_blocks.1.attentions.0}.
 *
 * <p>Grammar (no evaluation, ever): {@code path := part ('.' part | '[' int ']')* (':' ident)?},
 * {@code part := ident | int}, {@code ident := [A-Za-z_][A-Za-z0-9_]*}.
 *
 * @param value the canonical dotted form
 */
public record ModulePath(String value) {

    public ModulePath {
        if (value == null || value.isEmpty()) {
            throw new UnetlensException("empty module name");
        }
    }

    /** Parses a path in dotted or bracket form; one-line error with a caret on bad syntax. */
    public static ModulePath parse(String text) {
        String s = text.strip();
        if (s.matches(":[A-Za-z_][A-Za-z0-9_]*")) {
            return new ModulePath(s);          // an internal tensor of the component's root (the U-Net's :emb)
        }
        List<String> parts = new ArrayList<>();
        int i = 0;
        int n = s.length();
        String internal = null;
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isLetter(c) || c == '_') {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                    j++;
                }
                parts.add(s.substring(i, j));
                i = j;
            } else if (Character.isDigit(c)) {
                int j = digits(s, i);
                parts.add(Integer.toString(Integer.parseInt(s.substring(i, j))));
                i = j;
            } else {
                throw syntax(text, i, "expected a name or an index");
            }
            // after a part: '.', '[n]', ':internal' or end
            while (i < n && s.charAt(i) == '[') {
                int j = digits(s, i + 1);
                if (j == i + 1 || j >= n || s.charAt(j) != ']') {
                    throw syntax(text, i, "expected [index]");
                }
                parts.add(Integer.toString(Integer.parseInt(s.substring(i + 1, j))));
                i = j + 1;
            }
            if (i == n) {
                break;
            }
            if (s.charAt(i) == '.') {
                i++;
                if (i == n) {
                    throw syntax(text, i, "name expected after '.'");
                }
            } else if (s.charAt(i) == ':') {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                    j++;
                }
                if (j == i + 1 || j != n) {
                    throw syntax(text, j, "expected an internal name after ':' at the end (e.g. attn2:probs)");
                }
                internal = s.substring(i + 1, j);
                i = j;
            } else {
                throw syntax(text, i, "unexpected '" + s.charAt(i) + "'");
            }
        }
        if (parts.isEmpty()) {
            throw new UnetlensException("empty module name");
        }
        return new ModulePath(String.join(".", parts) + (internal == null ? "" : ":" + internal));
    }

    private static int digits(String s, int i) {
        int j = i;
        while (j < s.length() && Character.isDigit(s.charAt(j))) {
            j++;
        }
        if (j - i > 6) {
            throw new UnetlensException("index too large in '" + s + "'");
        }
        return j;
    }

    static UnetlensException syntax(String text, int at, String what) {
        return new UnetlensException("bad module name '" + text + "': " + what + " at column " + (at + 1));
    }

    /** The module part without {@code :internal}. */
    public String module() {
        int c = value.indexOf(':');
        return c < 0 ? value : value.substring(0, c);
    }

    /** True if this path is {@code other} or lies inside it ({@code down_blocks.1.attentions.0} inside {@code down_blocks.1}). */
    public boolean isWithin(ModulePath other) {
        String m = module();
        String o = other.module();
        return m.equals(o) || m.startsWith(o + ".") || value.startsWith(o + ":");
    }

    @Override
    public String toString() {
        return value;
    }
}
