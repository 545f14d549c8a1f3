package dev.unetlens.intervene;

import dev.unetlens.UnetlensException;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.StepSelection;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One change to module outputs during a run: at the modules {@code target} selects, replace, add to, scale or zero
 * the output, add a steering vector, or copy it from another run — for a set of steps, channels, CFG rows and a
 * region of the map. Where a selector is left out the edit applies everywhere on that axis; the elements it does
 * not select stay bit for bit as the module produced them.
 *
 * <p>The {@code --edit} grammar (parsed, never evaluated):
 * <pre>
 * edit      := target ':' operation ('@' qualifier (',' qualifier)*)?
 * target    := a module selection: IN05 | M00 | IN00-OUT11(+2) | mid_block | down_blocks[1].attentions[0]
 *              | …attn2:probs | a comma list of these (see {@link dev.unetlens.hook.Selector})
 * operation := 'zero'                     the output becomes 0
 *            | 'scale=' NUMBER            multiplied by NUMBER
 *            | 'add=' (NUMBER | FILE.npy)  plus a number, or an array broadcast against the output ([C,1,1], [C,H,W] …)
 *            | 'replace=' (NUMBER | FILE.npy)  set to a number, or to an array broadcast to the output's shape
 *            | 'steer=' FILE.npy ('*' NUMBER)?   plus NUMBER (default 1) times a vector of C values along the channels
 *            | 'patch'                    copied from the source run (activation patching; same point and step)
 * qualifier := 'steps=' STEPS             sampling steps counted from 1: 1,5-20(+5) (default: every step)
 *            | 'channels=' CHANNELS       channels counted from 0: 0-31,64 (default: all; see {@link Channels})
 *            | 'box=' X0,Y0,X1,Y1         a region in fractions of the map, origin top left (see {@link Region.Box})
 *            | 'mask=' FILE               a region as a mask image, white = edited (see {@link Region.Mask})
 *            | 'rows=' ('all' | 'cond' | 'uncond')   CFG rows (default: all)
 * </pre>
 * Example: {@code mid_block:scale=0.5@steps=1-10,channels=0-31,box=0.25,0.25,0.75,0.75}. A qualifier ends where the
 * next {@code ,key=} starts, so lists of steps, channels and box corners need no quoting (file names therefore
 * cannot contain {@code ,key=} or {@code @}). Steps count the run's sampling steps from 1, as captures number them
 * ({@link dev.unetlens.pipeline.StepPlan}): {@code --steps N} runs steps 1 … N (img2img the last ⌊N·strength⌋ of the
 * schedule, numbered from 1); an edit of PNDM's step 1 applies to both of its U-Net evaluations.
 *
 * <p>Where it applies: channels are axis 1 of feature maps [B, C, H, W], the last axis of tokens [B, T, C] and of
 * a context [B, S, Dc], the heads of attention probabilities [B, N, T, S]; a region applies to maps, to tokens
 * and to the query axis T of probabilities (T = H·W at the point's level); {@link Edits} checks all of this
 * against the model's shapes before a run starts.
 *
 * @param target   the module selection, as written
 * @param op       what to do
 * @param value    the operation's argument
 * @param steps    a step selection (from 1), or null for every step
 * @param channels the channels, or null for all
 * @param region   the region, or null for the whole map
 * @param rows     which CFG rows (default: all)
 */
public record Edit(String target, Op op, Value value, String steps, Channels channels, Region region, Capture.Rows rows) {
    private static final Pattern SHAPE = Pattern.compile(
            "(?<target>.+?)\\s*:\\s*(?<op>zero|scale|add|replace|steer|patch)\\s*(?:=(?<arg>[^@]*))?(?:@(?<quals>.*))?",
            Pattern.DOTALL);
    private static final Pattern QUALIFIER_START = Pattern.compile(",\\s*(?=(?:steps|channels|box|mask|rows)\\s*=)");
    private static final String OPS = "zero, scale=K, add=X|FILE.npy, replace=X|FILE.npy, steer=FILE.npy[*A] or patch";

    /** The operation. */
    public enum Op {
        ZERO, SCALE, ADD, REPLACE, STEER, PATCH;

        String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** An operation's argument. */
    public sealed interface Value {
        /** No argument (zero, patch). */
        record None() implements Value {
        }

        /** A number (scale factor, added or replacing value). */
        record Scalar(double value) implements Value {
        }

        /**
         * An array: added or replacing (broadcast against the output), or a steering vector of C values times
         * {@code alpha}.
         *
         * @param array  the values
         * @param source the file it came from, or a description
         * @param alpha  the steering coefficient (1 for add and replace)
         */
        record Array(NpyArray array, String source, double alpha) implements Value {
        }
    }

    public Edit {
        if (target == null || target.isBlank()) {
            throw new UnetlensException("an edit needs a target module, like mid_block:zero");
        }
        if (op == null) {
            throw new UnetlensException("an edit needs an operation: " + OPS);
        }
        if (value == null) {
            value = new Value.None();
        }
        if (rows == null) {
            rows = Capture.Rows.ALL;
        }
        boolean ok = switch (op) {
            case ZERO, PATCH -> value instanceof Value.None;
            case SCALE -> value instanceof Value.Scalar;
            case ADD, REPLACE -> value instanceof Value.Scalar || value instanceof Value.Array a && a.alpha() == 1;
            case STEER -> value instanceof Value.Array;
        };
        if (!ok) {
            throw new UnetlensException("edit '" + op.word() + "' cannot take " + value + "; operations are " + OPS);
        }
        if (value instanceof Value.Scalar(double v) && !Double.isFinite(v)) {
            throw new UnetlensException("edit '" + op.word() + "' needs a finite number, got " + v);
        }
        if (value instanceof Value.Array a && !Double.isFinite(a.alpha())) {
            throw new UnetlensException("steer coefficient must be finite, got " + a.alpha());
        }
        if (steps != null) {
            StepSelection.parse(steps, 1000);       // syntax now; the run's step count when it is resolved
        }
    }

    // ---- building

    public static Edit zero(String target) {
        return new Edit(target, Op.ZERO, null, null, null, null, null);
    }

    public static Edit scale(String target, double factor) {
        return new Edit(target, Op.SCALE, new Value.Scalar(factor), null, null, null, null);
    }

    public static Edit add(String target, double x) {
        return new Edit(target, Op.ADD, new Value.Scalar(x), null, null, null, null);
    }

    public static Edit replace(String target, double x) {
        return new Edit(target, Op.REPLACE, new Value.Scalar(x), null, null, null, null);
    }

    /** Replaces the output with {@code array}, broadcast to its shape. */
    public static Edit replace(String target, NpyArray array) {
        return new Edit(target, Op.REPLACE, new Value.Array(array, "array " + java.util.Arrays.toString(array.shape()), 1), null, null, null, null);
    }

    /** Adds {@code alpha · v}, v one value per channel. */
    public static Edit steer(String target, float[] v, double alpha) {
        NpyArray a = NpyArray.ofFloats(new long[] {v.length}, v);
        return new Edit(target, Op.STEER, new Value.Array(a, "vector of " + v.length, alpha), null, null, null, null);
    }

    /** Copies the output from the source run (activation patching). */
    public static Edit patch(String target) {
        return new Edit(target, Op.PATCH, null, null, null, null, null);
    }

    public Edit atSteps(String selection) {
        return new Edit(target, op, value, selection, channels, region, rows);
    }

    public Edit onChannels(Channels c) {
        return new Edit(target, op, value, steps, c, region, rows);
    }

    public Edit in(Region r) {
        return new Edit(target, op, value, steps, channels, r, rows);
    }

    public Edit onRows(Capture.Rows r) {
        return new Edit(target, op, value, steps, channels, region, r);
    }

    /** The same edit at another target (for sweeps). */
    public Edit at(String newTarget) {
        return new Edit(newTarget, op, value, steps, channels, region, rows);
    }

    // ---- the grammar

    /** Whether {@code text} starts with an operation, i.e. has no target (sweeps fill in each block). */
    public static boolean lacksTarget(String text) {
        return text.strip().matches("(?s)(zero|patch|scale=|add=|replace=|steer=).*");
    }

    /** Parses one {@code --edit}; files are read relative to the working directory. */
    public static Edit parse(String text) {
        Matcher m = SHAPE.matcher(text.strip());
        if (!m.matches()) {
            throw bad(text, lacksTarget(text) ? "it names no module; write TARGET:OPERATION like mid_block:zero"
                    : "expected TARGET:OPERATION[@QUALIFIERS] with an operation of " + OPS);
        }
        String target = m.group("target").strip();
        Op op = Op.valueOf(m.group("op").toUpperCase(Locale.ROOT));
        String arg = m.group("arg");
        Value value = value(text, op, arg == null ? null : arg.strip());
        String steps = null;
        Channels channels = null;
        Region region = null;
        Capture.Rows rows = null;
        String quals = m.group("quals");
        if (quals != null) {
            if (quals.isBlank()) {
                throw bad(text, "nothing after '@'; qualifiers are steps=, channels=, box=, mask= and rows=");
            }
            List<String> seen = new ArrayList<>();
            for (String q : QUALIFIER_START.split(quals.strip())) {
                int eq = q.indexOf('=');
                if (eq < 0) {
                    throw bad(text, "'" + q.strip() + "' is not KEY=VALUE; qualifiers are steps=, channels=, box=, mask= and rows=");
                }
                String key = q.substring(0, eq).strip().toLowerCase(Locale.ROOT);
                String v = q.substring(eq + 1).strip();
                if (seen.contains(key) || key.equals("box") && seen.contains("mask") || key.equals("mask") && seen.contains("box")) {
                    throw bad(text, key + "= given twice" + (key.equals("box") || key.equals("mask") ? " (one region: box= or mask=)" : ""));
                }
                seen.add(key);
                try {
                    switch (key) {
                        case "steps" -> {
                            StepSelection.parse(v, 1000);
                            steps = v;
                        }
                        case "channels" -> channels = Channels.parse(v);
                        case "box" -> region = box(v);
                        case "mask" -> region = Region.Mask.read(Path.of(v));
                        case "rows" -> rows = rows(v);
                        default -> throw new UnetlensException("unknown qualifier '" + key
                                + "'; qualifiers are steps=, channels=, box=, mask= and rows=");
                    }
                } catch (UnetlensException e) {
                    throw bad(text, e.getMessage());
                }
            }
        }
        try {
            return new Edit(target, op, value, steps, channels, region, rows);
        } catch (UnetlensException e) {
            throw bad(text, e.getMessage());
        }
    }

    private static Value value(String text, Op op, String arg) {
        return switch (op) {
            case ZERO, PATCH -> {
                if (arg != null) {
                    throw bad(text, "'" + op.word() + "' takes no value");
                }
                yield new Value.None();
            }
            case SCALE -> new Value.Scalar(number(text, op, arg));
            case ADD, REPLACE -> {
                if (arg != null && arg.toLowerCase(Locale.ROOT).endsWith(".npy")) {
                    yield new Value.Array(npy(text, arg), arg, 1);
                }
                yield new Value.Scalar(number(text, op, arg));
            }
            case STEER -> {
                if (arg == null || arg.isEmpty()) {
                    throw bad(text, "steer= needs a vector file, like steer=direction.npy*4");
                }
                int star = arg.lastIndexOf('*');
                String file = star < 0 ? arg : arg.substring(0, star).strip();
                double alpha = star < 0 ? 1 : parseNumber(text, "the steer coefficient", arg.substring(star + 1).strip());
                if (!file.toLowerCase(Locale.ROOT).endsWith(".npy")) {
                    throw bad(text, "steer= takes a .npy file of one value per channel, got '" + file + "'");
                }
                yield new Value.Array(npy(text, file), file, alpha);
            }
        };
    }

    private static double number(String text, Op op, String arg) {
        if (arg == null || arg.isEmpty()) {
            throw bad(text, op.word() + "= needs a number" + (op == Op.SCALE ? ", like scale=0.5" : " or a .npy file"));
        }
        return parseNumber(text, op.word() + "=", arg);
    }

    private static double parseNumber(String text, String what, String s) {
        try {
            double v = Double.parseDouble(s);
            if (!Double.isFinite(v) || s.matches("(?i).*[a-z].*") && !s.matches("(?i)[-+0-9.]+e[-+]?\\d+")) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw bad(text, what + " needs a finite number, got '" + s + "'");
        }
    }

    private static NpyArray npy(String text, String file) {
        try {
            return Npy.read(Path.of(file));
        } catch (UnetlensException e) {
            throw bad(text, e.getMessage());
        }
    }

    private static Region.Box box(String v) {
        String[] p = v.split(",", -1);
        if (p.length != 4) {
            throw new UnetlensException("box= takes four fractions X0,Y0,X1,Y1 like box=0.25,0.25,0.75,0.75, got '" + v + "'");
        }
        double[] c = new double[4];
        for (int k = 0; k < 4; k++) {
            try {
                c[k] = Double.parseDouble(p[k].strip());
            } catch (NumberFormatException e) {
                throw new UnetlensException("box= takes four fractions X0,Y0,X1,Y1 like box=0.25,0.25,0.75,0.75, got '" + v + "'");
            }
        }
        return new Region.Box(c[0], c[1], c[2], c[3]);
    }

    private static Capture.Rows rows(String v) {
        try {
            return Capture.Rows.valueOf(v.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UnetlensException("rows= must be all, cond or uncond, got '" + v + "'");
        }
    }

    private static UnetlensException bad(String text, String why) {
        return new UnetlensException("bad --edit '" + text.strip() + "': " + why);
    }

    /** The edit in the grammar it is parsed from (file arrays by their source). */
    public String describe() {
        StringBuilder b = new StringBuilder(target).append(':').append(op.word());
        switch (value) {
            case Value.Scalar(double v) -> b.append('=').append(v == Math.rint(v) && Math.abs(v) < 1e15
                    ? Long.toString((long) v) : Double.toString(v));
            case Value.Array a -> b.append('=').append(a.source()).append(op == Op.STEER && a.alpha() != 1 ? "*" + a.alpha() : "");
            case Value.None _ -> { }
        }
        List<String> q = new ArrayList<>();
        if (steps != null) {
            q.add("steps=" + steps);
        }
        if (channels != null) {
            q.add("channels=" + channels.describe());
        }
        if (region != null) {
            q.add(region.describe());
        }
        if (rows != Capture.Rows.ALL) {
            q.add("rows=" + rows.name().toLowerCase(Locale.ROOT));
        }
        return q.isEmpty() ? b.toString() : b.append('@').append(String.join(",", q)).toString();
    }
}
