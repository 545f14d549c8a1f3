package dev.unetlens.intervene;

import dev.unetlens.UnetlensException;
import dev.unetlens.hook.BlockNames;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A prompt with Dump U-Net's per-block ("layer") prompts: {@code a (~: IN00-OUT11: cute ; M00: excellent :~) girl}
 * reads {@code a  cute  girl} in every block but M00, which reads {@code a  excellent  girl}.
 *
 * <pre>
 * prompt  := text (group text)*                   text outside groups is shared by every block
 * group   := '(~:' ws pair (';' ws pair)* (';' ws)? ':~)'
 * pair    := spec ws ':' content
 * spec    := '_'                                  every block no other spec of the group names (lowest priority)
 *          | item (ws ',' ws item)*
 * item    := block                                IN00 … IN11, M00, OUT00 … OUT11 (the model's, case-insensitive)
 *          | block ws '-' ws block (ws '(+' k ')')?   a range, both ends included, every k-th; IN11, M00, OUT00 are adjacent
 * content := any characters up to the next unescaped ';' or the group's ':~)', spaces included and kept;
 *            '\;' stands for ';' and '\\' for '\' (other backslashes, such as A1111's '\(', are kept as written)
 * ws      := whitespace, skipped
 * </pre>
 * Within a group later specs win where they overlap; a block named by no spec takes the {@code _} content, or, with
 * no {@code _}, nothing (the group is removed). A prompt may hold several groups. Spaces are allowed after
 * {@code (~:}, before {@code :}, after {@code ;} and (after a final {@code ;}) before {@code :~)}; everything
 * between {@code :} and the next {@code ;} or {@code :~)} is the content, its spaces included — so in the example
 * above M00 reads {@code "a " + " excellent " + " girl"}. CLIP's tokenizer collapses runs of spaces, so they do not
 * change the encoding.
 *
 * <p>Differences from the extension's parser ({@code scripts/lib/layer_prompt/parser.py}), each to make a typo an
 * error rather than a silently different image: an unclosed {@code (~:}, a stray {@code :~)}, an empty group and a
 * nested {@code (~:} are errors (the extension leaves them in the text); {@code \;} becomes {@code ;} (the extension
 * keeps the backslash in the text it encodes); the spaces after {@code _ :} are kept like those after any other
 * spec (the extension drops them for {@code _} only); and ranges may carry a stride {@code (+k)} as block
 * selections elsewhere do.
 */
public final class LayerPrompt {
    public static final String OPEN = "(~:";
    public static final String CLOSE = ":~)";

    private final String source;
    private final List<String> blocks;
    private final List<Part> parts;

    /** A stretch of the prompt: literal text, or a group's content per block (in block order). */
    private sealed interface Part permits Literal, Group {
    }

    private record Literal(String text) implements Part {
    }

    private record Group(List<String> perBlock, Set<String> named) implements Part {
    }

    private LayerPrompt(String source, List<String> blocks, List<Part> parts) {
        this.source = source;
        this.blocks = blocks;
        this.parts = parts;
    }

    /** Whether {@code prompt} uses layer-prompt syntax (a group opener or closer). */
    public static boolean uses(String prompt) {
        return prompt != null && (prompt.contains(OPEN) || prompt.contains(CLOSE));
    }

    /**
     * Parses {@code prompt} for a U-Net with these block names.
     *
     * @throws LayerPromptException on malformed syntax or a block this model does not have, with a caret
     */
    public static LayerPrompt parse(String prompt, BlockNames names) {
        return new Parser(prompt, names).parse();
    }

    /** The prompt as written. */
    public String source() {
        return source;
    }

    /** Whether the prompt has at least one group. */
    public boolean hasGroups() {
        return parts.stream().anyMatch(p -> p instanceof Group);
    }

    /** The text block {@code block} reads (a name of {@link #blocks()}). */
    public String text(String block) {
        int k = blocks.indexOf(block);
        if (k < 0) {
            throw new UnetlensException("no block '" + block + "' in this model; blocks are " + blocks.getFirst() + "…" + blocks.getLast());
        }
        StringBuilder b = new StringBuilder();
        for (Part p : parts) {
            b.append(switch (p) {
                case Literal l -> l.text();
                case Group g -> g.perBlock().get(k);
            });
        }
        return b.toString();
    }

    /** Every block's text, in block order. */
    public Map<String, String> texts() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String b : blocks) {
            out.put(b, text(b));
        }
        return Collections.unmodifiableMap(out);
    }

    /** The prompt with its groups removed: what a block named by no spec and no {@code _} reads. */
    public String plain() {
        StringBuilder b = new StringBuilder();
        for (Part p : parts) {
            if (p instanceof Literal l) {
                b.append(l.text());
            }
        }
        return b.toString();
    }

    /** The blocks some spec names explicitly (not through {@code _}), in block order. */
    public List<String> named() {
        Set<String> all = new java.util.HashSet<>();
        for (Part p : parts) {
            if (p instanceof Group g) {
                all.addAll(g.named());
            }
        }
        return blocks.stream().filter(all::contains).toList();
    }

    /** The block names, in order. */
    public List<String> blocks() {
        return blocks;
    }

    @Override
    public String toString() {
        return source;
    }

    /** Recursive descent over the prompt; positions are offsets into the whole prompt, for the caret. */
    private static final class Parser {
        private final String s;
        private final BlockNames names;
        private final List<String> order;
        private int i;

        Parser(String s, BlockNames names) {
            this.s = s;
            this.names = names;
            this.order = names.names();
        }

        LayerPrompt parse() {
            List<Part> parts = new ArrayList<>();
            int pos = 0;
            while (pos <= s.length()) {
                int open = s.indexOf(OPEN, pos);
                int close = s.indexOf(CLOSE, pos);
                if (close >= 0 && (open < 0 || close < open)) {
                    throw fail(close, "'" + CLOSE + "' closes no group; open one with '" + OPEN + "'");
                }
                if (open < 0) {
                    parts.add(new Literal(s.substring(pos)));
                    break;
                }
                parts.add(new Literal(s.substring(pos, open)));
                int end = s.indexOf(CLOSE, open + OPEN.length());
                if (end < 0) {
                    throw fail(open, "'" + OPEN + "' is not closed by '" + CLOSE + "'");
                }
                int nested = s.indexOf(OPEN, open + OPEN.length());
                if (nested >= 0 && nested < end) {
                    throw fail(nested, "a group cannot hold another '" + OPEN + "'; close the first with '" + CLOSE + "'");
                }
                parts.add(group(open + OPEN.length(), end));
                pos = end + CLOSE.length();
            }
            return new LayerPrompt(s, order, List.copyOf(parts));
        }

        /** The group between {@code start} (after its opener) and {@code end} (at its closer). */
        private Group group(int start, int end) {
            i = start;
            skipSpace(end);
            if (i == end) {
                throw fail(i, "empty group; write block names and a prompt like (~: IN00-OUT11: cute :~)");
            }
            String[] perBlock = new String[order.size()];
            String rest = null;
            Set<String> named = new TreeSet<>();
            while (true) {
                List<String> spec = spec(end);           // null for '_'
                skipSpace(end);
                if (i == end) {
                    throw fail(i, "expected ':' and a prompt after the block names");
                }
                if (s.charAt(i) != ':') {
                    throw fail(i, "expected ':' after the block names"
                            + (Character.isLetterOrDigit(s.charAt(i)) ? " (separate blocks with ',')" : ""));
                }
                i++;
                String content = content(end);
                if (spec == null) {
                    rest = content;
                } else {
                    for (String b : spec) {
                        perBlock[order.indexOf(b)] = content;
                    }
                    named.addAll(spec);
                }
                if (i == end) {
                    break;                                // the last pair, without ';'
                }
                i++;                                      // past ';'
                skipSpace(end);
                if (i == end) {
                    break;                                // a final ';'
                }
            }
            List<String> out = new ArrayList<>(order.size());
            for (String t : perBlock) {
                out.add(t != null ? t : rest != null ? rest : "");
            }
            return new Group(List.copyOf(out), Set.copyOf(named));
        }

        /** A block spec at {@code i}: the blocks it names, in order, or null for {@code _}. */
        private List<String> spec(int end) {
            if (i < end && s.charAt(i) == '_') {
                int at = i;
                i++;
                skipSpace(end);
                if (i < end && s.charAt(i) == ',') {
                    throw fail(at, "'_' (every other block) stands alone; it cannot be listed with blocks");
                }
                return null;
            }
            List<String> out = new ArrayList<>();
            while (true) {
                int at = i;
                String from = name(end);
                skipSpace(end);
                if (i < end && s.charAt(i) == '-') {
                    i++;
                    skipSpace(end);
                    int toAt = i;
                    String to = name(end);
                    int stride = 1;
                    int save = i;
                    skipSpace(end);
                    if (s.startsWith("(", i) && i < end) {
                        stride = stride(end);
                    } else {
                        i = save;
                    }
                    checkKnown(from, at);
                    checkKnown(to, toAt);
                    try {
                        out.addAll(names.range(from, to, stride));
                    } catch (UnetlensException e) {
                        throw fail(at, e.getMessage());
                    }
                } else {
                    checkKnown(from, at);
                    out.add(names.module(from).map(m -> canonical(from)).orElseThrow());
                }
                skipSpace(end);
                if (i < end && s.charAt(i) == ',') {
                    i++;
                    skipSpace(end);
                    continue;
                }
                return out;
            }
        }

        /** {@code (+k)} at {@code i}. */
        private int stride(int end) {
            int at = i;
            i++;                                          // '('
            skipSpace(end);
            if (i >= end || s.charAt(i) != '+') {
                throw fail(at, "a range step is written (+k), like IN00-OUT11(+2)");
            }
            i++;
            skipSpace(end);
            int d = i;
            while (i < end && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (d == i || i - d > 4) {
                throw fail(d, "a range step is written (+k) with k from 1, like IN00-OUT11(+2)");
            }
            int k = Integer.parseInt(s.substring(d, i));
            skipSpace(end);
            if (i >= end || s.charAt(i) != ')') {
                throw fail(i, "expected ')' to close the range step");
            }
            i++;
            if (k < 1) {
                throw fail(d, "a range step must be (+1) or more, got (+" + k + ")");
            }
            return k;
        }

        /** A block name at {@code i} (letters then digits, a whole word), not yet checked against the model. */
        private String name(int end) {
            int at = i;
            while (i < end && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) {
                i++;
            }
            String word = s.substring(at, i);
            if (!word.matches("[A-Za-z]+[0-9]+")) {
                i = at;
                throw fail(at, "expected a block name (" + order.getFirst() + " … " + order.getLast() + ", M00) or '_'");
            }
            return word;
        }

        private void checkKnown(String name, int at) {
            if (!BlockNames.isBlockName(name) || names.module(name).isEmpty()) {
                int m = order.indexOf("M00");
                throw fail(at, "unknown block '" + name + "'; this model has " + order.getFirst() + "–" + order.get(m - 1)
                        + ", M00, OUT00–" + order.getLast());
            }
        }

        private String canonical(String name) {
            String c = names.module(name).orElseThrow();
            return names.blockName(c).orElseThrow();
        }

        /** The content after ':' up to an unescaped ';' (left at i) or the group's end. */
        private String content(int end) {
            StringBuilder b = new StringBuilder();
            while (i < end) {
                char c = s.charAt(i);
                if (c == '\\' && i + 1 < end && (s.charAt(i + 1) == ';' || s.charAt(i + 1) == '\\')) {
                    b.append(s.charAt(i + 1));
                    i += 2;
                } else if (c == ';') {
                    break;
                } else {
                    b.append(c);
                    i++;
                }
            }
            return b.toString();
        }

        private void skipSpace(int end) {
            while (i < end && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private LayerPromptException fail(int at, String reason) {
            return new LayerPromptException(s, at, reason);
        }
    }
}
