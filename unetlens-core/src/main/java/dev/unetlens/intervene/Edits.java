package dev.unetlens.intervene;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.UnetlensException;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.Component;
import dev.unetlens.hook.HookContext;
import dev.unetlens.hook.ModelHooks;
import dev.unetlens.hook.ModelScope;
import dev.unetlens.hook.ModulePath;
import dev.unetlens.hook.Selector;
import dev.unetlens.hook.StepSelection;
import dev.unetlens.io.NpyArray;
import dev.unetlens.model.ForwardContext.Branch;
import dev.unetlens.model.ForwardContext.RowLabel;
import dev.unetlens.model.unet.HookShape;
import dev.unetlens.model.unet.UNet2DConditionModel;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.PromptEncoder;
import dev.unetlens.pipeline.StableDiffusion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@link Edit}s resolved for one model and request: each target expanded to hook points, each selector checked
 * against the points' shapes (from the config, no forward run), steps against the request's step count — so a
 * mistake fails in one line before anything runs. {@link #install} adds one hook per edit and point.
 *
 * <p>A hook computes the edited tensor y from the value x (zero, x·k, x + a, a, x + α·v, or the source run's
 * tensor) and returns {@code where(mask, y, x)}, the mask being the product of the selected rows, channels and
 * region, broadcast over the rest; without selectors it returns y. Unselected elements are x's own, bit for bit.
 */
public final class Edits {
    private final List<Resolved> resolved;
    private final int latentH;
    private final int latentW;

    /**
     * One edit at one hook point.
     *
     * @param edit  the edit
     * @param point the hook point
     * @param shape the point's shape for this request ([B, …])
     * @param steps the 0-based steps it applies at, or null for all
     */
    public record Resolved(Edit edit, String point, long[] shape, Set<Integer> steps) {
    }

    private Edits(List<Resolved> resolved, int latentH, int latentW) {
        this.resolved = resolved;
        this.latentH = latentH;
        this.latentW = latentW;
    }

    /** No edits. */
    public static Edits none() {
        return new Edits(List.of(), 1, 1);
    }

    /**
     * Resolves {@code edits} for {@code sd} and request {@code r} (whose prompts may hold layer syntax): targets in the
     * U-Net, or in a text encoder when qualified ({@code text_encoder:text_model.encoder.layers.0}).
     */
    public static Edits resolve(StableDiffusion sd, GenerationRequest r, List<Edit> edits) {
        UNet2DConditionModel unet = sd.unet();
        int f = sd.vae().downscale();
        int h = r.height() / f;
        int w = r.width() / f;
        if (edits.isEmpty()) {
            return new Edits(List.of(), h, w);
        }
        long batch = (long) r.batch() * (r.cfg() ? 2 : 1);
        int stepCount = new Pipeline(sd).plan(r).steps();
        Map<String, long[]> shapes = new HashMap<>();
        for (HookShape s : unet.shapes(new UNet2DConditionModel.InputSize(batch, h, w,
                sd.prompts().tokenizer().modelMaxLength(), UNet2DConditionModel.TIME_IDS))) {
            shapes.put(s.name(), s.shape().getShape());
        }
        textShapes(sd, r, shapes);
        ModelHooks hooks = ModelHooks.of(sd);
        List<Resolved> out = new ArrayList<>();
        for (Edit e : edits) {
            List<ModulePath> points;
            try {
                points = Selector.resolve(e.target(), hooks, Component.UNET);
            } catch (UnetlensException ex) {
                throw bad(e, ex.getMessage());
            }
            Set<Integer> steps = null;
            if (e.steps() != null) {
                steps = new TreeSet<>();
                try {
                    for (int s : StepSelection.parse(e.steps(), stepCount)) {
                        steps.add(s - 1);
                    }
                } catch (UnetlensException ex) {
                    throw bad(e, ex.getMessage());
                }
            }
            if (e.rows() != Capture.Rows.ALL && !r.cfg()) {
                throw bad(e, "rows=" + e.rows().name().toLowerCase(java.util.Locale.ROOT)
                        + " needs classifier-free guidance (guidance > 1); this run has one branch");
            }
            for (ModulePath p : points) {
                checkComponent(e, p);
                long[] shape = shapes.get(p.qualified());
                check(e, p.qualified(), shape, batch, h, w);
                out.add(new Resolved(e, p.qualified(), shape, steps));
            }
        }
        return new Edits(List.copyOf(out), h, w);
    }

    /**
     * The text encoders' points, qualified, for one forward over the prompts (the negative prompts' forward has as
     * many rows).
     */
    private static void textShapes(StableDiffusion sd, GenerationRequest r, Map<String, long[]> shapes) {
        List<PromptEncoder.TextStack> stacks = sd.prompts().stacks();
        for (int i = 0; i < stacks.size(); i++) {
            Component c = i == 0 ? Component.TEXT_ENCODER : Component.TEXT_ENCODER_2;
            for (HookShape s : stacks.get(i).encoder().shapes(r.prompts().size(), stacks.get(i).tokenizer().modelMaxLength())) {
                shapes.put(new ModulePath(c, s.name()).qualified(), s.shape().getShape());
            }
        }
    }

    /** Text-encoder edits: once per prompt encoding, so no steps, regions or patches; no VAE edits. */
    private static void checkComponent(Edit e, ModulePath p) {
        if (p.component() == Component.UNET) {
            return;
        }
        if (!p.component().isText()) {
            throw bad(e, p.qualified() + " is in the " + p.component() + "; --edit changes the U-Net and the text"
                    + " encoders (to see the VAE stage by stage, use 'unetlens vae')");
        }
        String why = e.steps() != null ? "steps= selects sampling steps"
                : e.region() != null ? "box= and mask= select regions of feature maps"
                : e.op() == Edit.Op.PATCH ? "patch copies U-Net outputs between runs" : null;
        if (why != null) {
            throw bad(e, why + "; " + p.qualified() + " is in the " + p.component() + ", which runs once per prompt"
                    + " before the steps, on tokens");
        }
    }

    /** Every (edit, point) pair, in order. */
    public List<Resolved> resolved() {
        return resolved;
    }

    public boolean isEmpty() {
        return resolved.isEmpty();
    }

    /** The hook points patch edits copy, with the 0-based steps (null: every step) a source run must record. */
    public Map<String, Set<Integer>> patchPoints() {
        Map<String, Set<Integer>> out = new LinkedHashMap<>();
        for (Resolved r : resolved) {
            if (r.edit().op() != Edit.Op.PATCH || out.containsKey(r.point()) && out.get(r.point()) == null) {
                continue;
            }
            if (r.steps() == null) {
                out.put(r.point(), null);
            } else {
                out.computeIfAbsent(r.point(), k -> new TreeSet<>()).addAll(r.steps());
            }
        }
        return out;
    }

    /**
     * Adds the hooks to {@code scope}, in edit order. {@code source} is the recording of the source run (all rows)
     * that patch edits copy from; null when there are none.
     */
    public void install(ModelScope scope, Recording source) {
        for (Resolved r : resolved) {
            if (r.edit().op() == Edit.Op.PATCH && source == null) {
                throw bad(r.edit(), "'patch' copies from a source run; give one (--source-prompt / --source-seed)");
            }
            EditHook hook = new EditHook(r, source);
            scope.add(ModulePath.parse(r.point()), hook::apply);
        }
    }

    // ---- layouts: which axes are channels and which the map

    /** Where the channel and spatial axes of a point's tensor are. */
    private enum Layout {
        /** [B, C, H, W]. */
        MAP,
        /** [B, T, C], T = H·W of a level, or S text tokens. */
        TOKENS,
        /** [B, N, T, S] attention probabilities: heads, query positions. */
        PROBS,
        /** [B, C]. */
        VECTOR,
        /** anything else ([B·K, D] of SDXL's add_time_proj): rows-free, no channel or region selection. */
        OTHER
    }

    private static Layout layout(String point, long[] shape) {
        if (point.endsWith(":probs")) {
            return Layout.PROBS;
        }
        return switch (shape.length) {
            case 4 -> Layout.MAP;
            case 3 -> Layout.TOKENS;
            case 2 -> point.equals("add_time_proj") ? Layout.OTHER : Layout.VECTOR;
            default -> Layout.OTHER;
        };
    }

    private static int channelAxis(Layout l) {
        return switch (l) {
            case MAP, PROBS, VECTOR -> 1;
            case TOKENS -> 2;
            case OTHER -> -1;
        };
    }

    /** The level's H×W whose positions make up T tokens, or null if none does (text tokens). */
    private static int[] level(long t, int h, int w) {
        int lh = h;
        int lw = w;
        for (int l = 0; l < 16; l++) {
            if ((long) lh * lw == t) {
                return new int[] {lh, lw};
            }
            if (lh == 1 && lw == 1) {
                break;
            }
            lh = (lh + 1) / 2;
            lw = (lw + 1) / 2;
        }
        return null;
    }

    /** The spatial size a region applies to at this point, or null if it has none. */
    private static int[] spatial(Layout l, long[] shape, int h, int w) {
        return switch (l) {
            case MAP -> new int[] {(int) shape[2], (int) shape[3]};
            case TOKENS -> level(shape[1], h, w);
            case PROBS -> level(shape[2], h, w);
            case VECTOR, OTHER -> null;
        };
    }

    private static void check(Edit e, String point, long[] shape, long batch, int h, int w) {
        Layout l = layout(point, shape);
        String where = point + " " + Arrays.toString(shape);
        if (l == Layout.OTHER && (e.rows() != Capture.Rows.ALL || e.channels() != null || e.region() != null)) {
            throw bad(e, where + " has no batch, channel or map axes to select; edit it whole");
        }
        if (e.channels() != null) {
            try {
                e.channels().select((int) shape[channelAxis(l)], where + (l == Layout.PROBS ? " (heads)" : ""));
            } catch (UnetlensException ex) {
                throw bad(e, ex.getMessage());
            }
        }
        if (e.region() != null && spatial(l, shape, h, w) == null) {
            throw bad(e, "a region applies to feature maps [B, C, H, W], tokens [B, H·W, C] and attention probabilities;"
                    + " " + where + " has no map axes");
        }
        if (e.value() instanceof Edit.Value.Array a) {
            long[] v = a.array().shape();
            if (e.op() == Edit.Op.STEER) {
                long c = l == Layout.OTHER ? -1 : shape[channelAxis(l)];
                if (NpyArray.elementCount(v) != c) {
                    throw bad(e, "a steering vector needs one value per channel: " + where + " has " + c
                            + ", " + a.source() + " has " + NpyArray.elementCount(v));
                }
            } else if (!broadcasts(v, shape)) {
                throw bad(e, a.source() + " of shape " + Arrays.toString(v) + " does not broadcast to " + where);
            }
        }
    }

    /** numpy broadcasting of {@code from} to exactly {@code to}. */
    private static boolean broadcasts(long[] from, long[] to) {
        if (from.length > to.length) {
            return false;
        }
        for (int k = 1; k <= from.length; k++) {
            long a = from[from.length - k];
            if (a != 1 && a != to[to.length - k]) {
                return false;
            }
        }
        return true;
    }

    private static UnetlensException bad(Edit e, String why) {
        return new UnetlensException("--edit '" + e.describe() + "': " + why);
    }

    /** The hook of one edit at one point. */
    private final class EditHook {
        private final Resolved r;
        private final Edit e;
        private final Recording source;
        private final Map<String, boolean[]> regionCache = new HashMap<>();

        EditHook(Resolved r, Recording source) {
            this.r = r;
            this.e = r.edit();
            this.source = source;
        }

        NDArray apply(NDArray x, HookContext ctx) {
            if (r.steps() != null && !r.steps().contains(ctx.step())) {
                return x;
            }
            NDArray y = edited(x, ctx);
            NDArray mask = mask(x, ctx);
            if (mask == null) {
                return y;
            }
            if (!mask.getShape().equals(x.getShape())) {
                mask = mask.broadcast(x.getShape());                   // DJL's where does not broadcast
            }
            return NDArrays.where(mask, y, x);
        }

        /** The edited tensor everywhere, before the selection. */
        private NDArray edited(NDArray x, HookContext ctx) {
            NDManager m = x.getManager();
            return switch (e.op()) {
                case ZERO -> x.zerosLike();
                case SCALE -> x.mul(((Edit.Value.Scalar) e.value()).value());
                case ADD -> e.value() instanceof Edit.Value.Scalar(double v) ? x.add(v) : x.add(array(m, e.value()));
                case REPLACE -> e.value() instanceof Edit.Value.Scalar(double v)
                        ? m.full(x.getShape(), (float) v, x.getDataType())
                        : array(m, e.value()).broadcast(x.getShape());
                case STEER -> {
                    Edit.Value.Array a = (Edit.Value.Array) e.value();
                    long[] s = new long[x.getShape().dimension()];
                    Arrays.fill(s, 1);
                    int axis = channelAxis(layout(r.point(), x.getShape().getShape()));
                    s[axis] = x.getShape().get(axis);
                    yield x.add(array(m, a).reshape(new Shape(s)).mul(a.alpha()));
                }
                case PATCH -> {
                    NDArray src = source.get(r.point(), ctx.evaluation());
                    if (!src.getShape().equals(x.getShape())) {
                        throw bad(e, "the source run's " + r.point() + " is " + src.getShape() + " but this run's is "
                                + x.getShape() + "; patch between runs of the same size and batch");
                    }
                    yield src;
                }
            };
        }

        private NDArray array(NDManager m, Edit.Value v) {
            NpyArray a = ((Edit.Value.Array) v).array();
            return m.create(a.toFloats(), new Shape(a.shape()));
        }

        /** The selected elements as a boolean array broadcastable to x, or null for all of them. */
        private NDArray mask(NDArray x, HookContext ctx) {
            long[] shape = x.getShape().getShape();
            Layout l = layout(r.point(), shape);
            NDManager m = x.getManager();
            NDArray mask = null;
            if (e.rows() != Capture.Rows.ALL) {
                Branch want = e.rows() == Capture.Rows.COND ? Branch.COND : Branch.UNCOND;
                List<RowLabel> labels = ctx.rows();
                if (labels.size() != shape[0]) {
                    throw bad(e, "rows= needs the run's CFG row labels; " + r.point() + " has " + shape[0] + " rows");
                }
                boolean[] sel = new boolean[labels.size()];
                for (int i = 0; i < sel.length; i++) {
                    sel[i] = labels.get(i).branch() == want;
                }
                mask = and(mask, part(m, sel, shape.length, 0, shape[0]));
            }
            if (e.channels() != null) {
                int axis = channelAxis(l);
                boolean[] sel = e.channels().select((int) shape[axis], r.point());
                mask = and(mask, part(m, sel, shape.length, axis, shape[axis]));
            }
            if (e.region() != null) {
                int[] hw = spatial(l, shape, latentH, latentW);
                boolean[] sel = regionCache.computeIfAbsent(hw[0] + "x" + hw[1], k -> e.region().select(hw[0], hw[1]));
                long[] s = new long[shape.length];
                Arrays.fill(s, 1);
                if (l == Layout.MAP) {
                    s[2] = hw[0];
                    s[3] = hw[1];
                } else {
                    s[l == Layout.PROBS ? 2 : 1] = (long) hw[0] * hw[1];
                }
                mask = and(mask, m.create(sel, new Shape(s)));
            }
            return mask;
        }

        private NDArray part(NDManager m, boolean[] sel, int rank, int axis, long size) {
            long[] s = new long[rank];
            Arrays.fill(s, 1);
            s[axis] = size;
            return m.create(sel, new Shape(s));
        }

        private NDArray and(NDArray a, NDArray b) {
            return a == null ? b : a.logicalAnd(b);
        }
    }
}
