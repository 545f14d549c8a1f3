package dev.unetlens.hook;

import dev.unetlens.UnetlensException;

import java.util.ArrayList;
import java.util.List;

/**
 * A module's name in canonical form: its component, and its diffusers / PyTorch module path in that component with
 * dots ({@code down_blocks.1.attentions.0.transformer_blocks.0.attn2}), optionally followed by {@code :internal} for
 * a tensor inside the module ({@code …attn2:probs}). Parsed from either spelling, brackets or dots:
 * {@code down_blocks[1].attentions[0]} = {@code down_blocks.1.attentions.0}. A name of another component than the
 * U-Net starts with the component: {@code text_encoder:text_model.encoder.layers[3]},
 * {@code vae:encoder.down_blocks.2}; {@code unet:} may be written but is the default.
 *
 * <p>Grammar (no evaluation, ever): {@code name := (component ':')? path},
 * {@code component := 'unet' | 'text_encoder' | 'text_encoder_2' | 'vae'},
 * {@code path := part ('.' part | '[' int ']')* (':' ident)?}, {@code part := ident | int},
 * {@code ident := [A-Za-z_][A-Za-z0-9_]*}.
 *
 * @param component the model part the module belongs to
 * @param value     the canonical dotted path inside the component (what its hook table calls the point)
 */
public record ModulePath(Component component, String value) {

    public ModulePath {
        if (component == null) {
            component = Component.UNET;
        }
        if (value == null || value.isEmpty()) {
            throw new UnetlensException("empty module name");
        }
    }

    /** A U-Net path. */
    public ModulePath(String value) {
        this(Component.UNET, value);
    }

    /**
     * Parses a name in dotted or bracket form, with or without a component; one-line error naming the column on bad
     * syntax. A name without a component is {@code fallback}'s.
     */
    public static ModulePath parse(String text, Component fallback) {
        String s = text.strip();
        int colon = s.indexOf(':');
        if (colon > 0) {
            java.util.Optional<Component> c = Component.find(s.substring(0, colon).strip());
            if (c.isPresent()) {
                String rest = s.substring(colon + 1);
                if (rest.isBlank()) {
                    throw syntax(text, s.length(), "a module path expected after '" + c.get() + ":'");
                }
                return new ModulePath(c.get(), path(text, rest.strip()));
            }
        }
        return new ModulePath(fallback, path(text, s));
    }

    /** Parses a name whose component, if it names none, is the U-Net. */
    public static ModulePath parse(String text) {
        return parse(text, Component.UNET);
    }

    /** The canonical dotted form of the path {@code s} (a part of {@code text}, for messages). */
    private static String path(String text, String s) {
        if (s.matches(":[A-Za-z_][A-Za-z0-9_]*")) {
            return s;                          // an internal tensor of the component's root (the U-Net's :emb)
        }
        int offset = Math.max(0, text.indexOf(s));                             // for the columns of messages
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
                throw syntax(text, offset + i, "expected a name or an index");
            }
            // after a part: '.', '[n]', ':internal' or end
            while (i < n && s.charAt(i) == '[') {
                int j = digits(s, i + 1);
                if (j == i + 1 || j >= n || s.charAt(j) != ']') {
                    throw syntax(text, offset + i, "expected [index]");
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
                    throw syntax(text, offset + i, "name expected after '.'");
                }
            } else if (s.charAt(i) == ':') {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                    j++;
                }
                if (j == i + 1 || j != n) {
                    throw syntax(text, offset + j, "expected an internal name after ':' at the end (e.g. attn2:probs)");
                }
                internal = s.substring(i + 1, j);
                i = j;
            } else {
                throw syntax(text, offset + i, "unexpected '" + s.charAt(i) + "'");
            }
        }
        if (parts.isEmpty()) {
            throw new UnetlensException("empty module name");
        }
        return String.join(".", parts) + (internal == null ? "" : ":" + internal);
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
        return component == other.component && (m.equals(o) || m.startsWith(o + ".") || value.startsWith(o + ":"));
    }

    /** The name with its component where that is not the U-Net: {@code vae:decoder.up_blocks.0}, {@code mid_block}. */
    public String qualified() {
        return component == Component.UNET ? value : component.cliName() + ":" + value;
    }

    @Override
    public String toString() {
        return qualified();
    }
}
