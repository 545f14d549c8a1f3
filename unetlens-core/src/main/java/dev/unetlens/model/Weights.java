package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.Messages;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Hands each module its tensors, strictly: every module {@link #take}s its own keys with the shape it expects,
 * and {@link #verify} then fails, naming them, on any missing, wrongly shaped, non-floating or unused tensor.
 *
 * <p>Three modes: loading from a {@link TensorSource} ({@link #load}: checked in full before anything is allocated,
 * then values widened to float32), generating deterministic random weights for a config (the tiny bundled model and
 * the benchmark models) with the golden fixtures' rule: conv/linear/embedding weights ~ N(0, clamp(1/√fan_in, 0.02,
 * 0.2)), biases ~ N(0, 0.05), norm weights ~ 1 + N(0, 0.1); and zero-cost placeholders.
 */
public final class Weights {
    /** How many names of each kind a {@link #verify} message lists before counting the rest. */
    private static final int LIST_LIMIT = 3;
    /** A {@link #verify} message names tensors up to this many characters (at least one), then only counts them. */
    private static final int LIST_BUDGET = 380;

    private enum Mode {
        /** Stand-ins while checking every tensor against the source. */
        CHECK,
        /** The source's tensors, already checked. */
        LOAD,
        /** Deterministic random values. */
        RANDOM,
        /** Stand-ins for a model that is only looked at. */
        PLACEHOLDERS
    }

    private final TensorSource source;   // null when generating or for placeholders
    private final long seed;
    private final Mode mode;
    private final NDManager manager;
    private final String component;
    private final Map<String, NDArray> taken = new LinkedHashMap<>();
    private final List<String> missing = new ArrayList<>();
    private final List<String> wrongShape = new ArrayList<>();
    private final List<String> wrongDtype = new ArrayList<>();
    private Predicate<String> ignorable = k -> false;
    private NDArray zero;   // what stand-ins broadcast
    private Precision precision = Precision.FP32;

    private Weights(TensorSource source, long seed, NDManager manager, String component, Mode mode) {
        this.source = source;
        this.seed = seed;
        this.mode = mode;
        this.manager = manager;
        this.component = component;
    }

    /**
     * Builds a model with {@code build} from the tensors of {@code source}, in two passes. First the model is built
     * on zero-cost stand-ins while every tensor it takes is checked against the source (present, of a floating dtype,
     * of exactly the shape the config gives it) and every tensor of the source must be taken or be one of the
     * {@code extras}: any mismatch fails in one line ({@link WeightsException}) before anything is allocated, whatever
     * sizes the config asks for. Then it is built again on the source's tensors, widened to float32.
     *
     * @param component names the model part in errors ({@code "unet"})
     * @param extras    stored tensors that are known extras and not weights (a saved {@code position_ids} buffer)
     */
    public static <M> M load(TensorSource source, NDManager manager, String component, Predicate<String> extras,
                             Function<Weights, M> build) {
        return load(source, manager, component, extras, Precision.FP32, build);
    }

    /**
     * {@link #load} for a model whose products run in {@code precision}: with {@link Precision#BF16} every module
     * that has a bf16 way also keeps a bf16 copy of its weights, cast once here ({@link #reduced}).
     */
    public static <M> M load(TensorSource source, NDManager manager, String component, Predicate<String> extras,
                             Precision precision, Function<Weights, M> build) {
        try (NDManager scratch = manager.newSubManager()) {
            Weights check = new Weights(source, 0, scratch, component, Mode.CHECK).ignoring(extras);
            build.apply(check);
            check.verify();
        }
        Weights w = new Weights(source, 0, manager, component, Mode.LOAD).ignoring(extras).precision(precision);
        M model = build.apply(w);
        w.verify();
        return model;
    }

    /** Deterministic random weights: the same seed and key always give the same tensor. */
    public static Weights random(long seed, NDManager manager, String component) {
        return new Weights(null, seed, manager, component, Mode.RANDOM);
    }

    /**
     * Zero-cost stand-ins of the right shapes (stride-0 views of one zero), for building a model only to look at
     * its structure (hook points and their shapes) without loading or allocating its weights. Such a model must
     * not be run.
     */
    public static Weights placeholders(NDManager manager, String component) {
        return new Weights(null, 0, manager, component, Mode.PLACEHOLDERS);
    }

    /**
     * Declares stored tensors that are known extras and not weights of the model (a saved {@code position_ids}
     * buffer, EMA copies): {@link #verify} does not report them as unexpected. Returns this.
     */
    public Weights ignoring(Predicate<String> extras) {
        ignorable = ignorable.or(extras);
        return this;
    }

    public NDManager manager() {
        return manager;
    }

    /** Sets the precision the modules built from these weights compute their products in; returns this. */
    public Weights precision(Precision p) {
        if (p == Precision.BF16) {
            Bf16.requireSupported();
        }
        precision = p;
        return this;
    }

    public Precision precision() {
        return precision;
    }

    /** Builds a module whose weights stay float32 whatever these weights' precision (no bf16 copies). */
    public <M> M float32(java.util.function.Supplier<M> build) {
        Precision before = precision;
        precision = Precision.FP32;
        try {
            return build.get();
        } finally {
            precision = before;
        }
    }

    /**
     * The bf16 copy of a weight that a module's bf16 way computes with, cast once (rounded to nearest even), or null
     * when these weights are float32 only (or stand-ins, which are never run). The float32 weight is kept as well: the
     * fp32 ways (a kernel that fails its check falls back to them, and the fp32 reference forward that measures the
     * bf16 error at run time) use it.
     */
    public NDArray reduced(NDArray weight) {
        if (weight == null || precision != Precision.BF16 || mode == Mode.CHECK || mode == Mode.PLACEHOLDERS) {
            return null;
        }
        return ForwardScope.detach(Bf16.of(weight));
    }

    /** The tensor stored under {@code key}, as float32, which must have exactly {@code shape}. */
    public NDArray take(String key, long... shape) {
        if (taken.containsKey(key)) {
            throw new IllegalStateException("weight '" + key + "' taken twice");
        }
        NDArray value = switch (mode) {
            case CHECK -> {
                check(key, shape);
                yield standIn(shape);
            }
            case LOAD -> {
                TensorInfo info = source.info(key).orElseThrow(() -> new IllegalStateException(key + " was checked"));
                NDArray loaded = Tensors.load(manager, info, source.data(key));
                source.release(key);
                yield loaded;
            }
            case RANDOM -> generate(key, shape);
            case PLACEHOLDERS -> standIn(shape);
        };
        taken.put(key, value);
        return value;
    }

    /** Notes whether the source's tensor {@code key} is there, with {@code shape} and a floating dtype. */
    private void check(String key, long[] shape) {
        TensorInfo info = source.info(key).orElse(null);
        if (info == null) {
            missing.add(Messages.quote(key));
        } else if (!Arrays.equals(info.shape(), shape)) {
            wrongShape.add(Messages.quote(key) + " " + Messages.shape(info.shape()) + " (expected "
                    + Messages.shape(shape) + ")");
        } else if (!Tensors.loadable(info.dtype())) {
            wrongDtype.add(Messages.quote(key) + " " + info.dtype());
        }
    }

    /** A stride-0 view of one zero with {@code shape}: no storage of its own. */
    private NDArray standIn(long[] shape) {
        if (zero == null) {
            zero = ForwardScope.detach(manager.zeros(new Shape(1)));
        }
        return ForwardScope.detach(zero.broadcast(new Shape(shape)));
    }

    /** Every tensor taken so far, in order (to write a generated model). */
    public Map<String, NDArray> taken() {
        return java.util.Collections.unmodifiableMap(taken);
    }

    /** Fails with one line naming the missing, wrongly shaped, non-floating and unused tensors. */
    public void verify() {
        List<String> unused = new ArrayList<>();
        if (source != null) {
            for (String name : source.names()) {
                if (!taken.containsKey(name) && !ignorable.test(name)) {
                    unused.add(Messages.quote(name));
                }
            }
        }
        if (missing.isEmpty() && wrongShape.isEmpty() && wrongDtype.isEmpty() && unused.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder(component).append(" weights in ").append(source.describe())
                .append(missing.isEmpty() && wrongShape.isEmpty() && unused.isEmpty() ? ":" : " do not fit its config:");
        boolean named = appendList(sb, "missing", missing, false);
        named = appendList(sb, "wrong shape", wrongShape, named);
        named = appendList(sb, "wrong dtype", wrongDtype, named);
        appendList(sb, "unexpected", unused, named);
        sb.append(wrongDtype.isEmpty() ? " — check that config.json belongs to these weights"
                : " — weights must be F16, BF16, F32 or F64; convert the file");
        throw new WeightsException(sb.toString());
    }

    /**
     * {@code what N: name, name, … (+K more);}, with as many names as the budget leaves room for, at least one unless
     * an earlier list {@code named} one; returns whether a name has been given by now.
     */
    private static boolean appendList(StringBuilder sb, String what, List<String> names, boolean named) {
        if (names.isEmpty()) {
            return named;
        }
        sb.append(' ').append(what).append(' ').append(names.size());
        int shown = 0;
        while (shown < Math.min(LIST_LIMIT, names.size())
                && (!named && shown == 0 || sb.length() + names.get(shown).length() <= LIST_BUDGET)) {
            sb.append(shown == 0 ? ": " : ", ").append(names.get(shown++));
        }
        if (shown > 0 && names.size() > shown) {
            sb.append(", … (+").append(names.size() - shown).append(" more)");
        }
        sb.append(';');
        return named || shown > 0;
    }

    private NDArray generate(String key, long[] shape) {
        return ForwardScope.detach(manager.create(randomValues(seed, key, shape), new Shape(shape)));
    }

    /**
     * The values {@link #random} weights of this {@code seed} give tensor {@code key} of {@code shape}, without a
     * manager: a model can be written tensor by tensor, never held whole ({@code SyntheticModel}).
     */
    public static float[] randomValues(long seed, String key, long[] shape) {
        int n = Math.toIntExact(dev.unetlens.io.NpyArray.elementCount(shape));
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ stableHash(key));
        boolean bias = key.endsWith(".bias");
        boolean norm = !bias && shape.length == 1;
        double mean = norm ? 1.0 : 0.0;
        double std;
        if (bias) {
            std = 0.05;
        } else if (norm) {
            std = 0.1;
        } else {
            long fanIn = 1;
            for (int i = 1; i < shape.length; i++) {
                fanIn *= shape[i];
            }
            std = Math.min(0.2, Math.max(0.02, 1.0 / Math.sqrt(fanIn)));
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (mean + std * rnd.nextGaussian());
        }
        return v;
    }

    private static long stableHash(String s) {
        long h = 1125899906842597L;
        for (int i = 0; i < s.length(); i++) {
            h = 31 * h + s.charAt(i);
        }
        return h;
    }
}
