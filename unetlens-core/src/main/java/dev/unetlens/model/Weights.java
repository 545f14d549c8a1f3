package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Hands each module its tensors, strictly: every module {@link #take}s its own keys with the shape it expects,
 * and {@link #verify} then fails, naming them, on any missing, wrongly shaped or unused tensor.
 *
 * <p>Two modes: loading from a {@link TensorSource} (values widened to float32), or generating deterministic
 * random weights for a config (the tiny bundled model and the benchmark models) with the golden fixtures' rule:
 * conv/linear/embedding weights ~ N(0, clamp(1/√fan_in, 0.02, 0.2)), biases ~ N(0, 0.05), norm weights
 * ~ 1 + N(0, 0.1).
 */
public final class Weights {
    private static final int LIST_LIMIT = 8;

    private final TensorSource source;   // null when generating or for placeholders
    private final long seed;
    private final boolean placeholders;
    private final NDManager manager;
    private final String component;
    private final Map<String, NDArray> taken = new LinkedHashMap<>();
    private final List<String> missing = new ArrayList<>();
    private final List<String> wrongShape = new ArrayList<>();
    private java.util.function.Predicate<String> ignorable = k -> false;

    private Weights(TensorSource source, long seed, NDManager manager, String component, boolean placeholders) {
        this.source = source;
        this.seed = seed;
        this.placeholders = placeholders;
        this.manager = manager;
        this.component = component;
    }

    /** Weights read from {@code source}; {@code component} names the model part in errors ({@code "unet"}). */
    public static Weights load(TensorSource source, NDManager manager, String component) {
        return new Weights(source, 0, manager, component, false);
    }

    /** Deterministic random weights: the same seed and key always give the same tensor. */
    public static Weights random(long seed, NDManager manager, String component) {
        return new Weights(null, seed, manager, component, false);
    }

    /**
     * Zero-cost stand-ins of the right shapes (stride-0 views of one zero), for building a model only to look at
     * its structure (hook points and their shapes) without loading or allocating its weights. Such a model must
     * not be run.
     */
    public static Weights placeholders(NDManager manager, String component) {
        return new Weights(null, 0, manager, component, true);
    }

    /**
     * Declares stored tensors that are known extras and not weights of the model (a saved {@code position_ids}
     * buffer, EMA copies): {@link #verify} does not report them as unexpected. Returns this.
     */
    public Weights ignoring(java.util.function.Predicate<String> extras) {
        ignorable = ignorable.or(extras);
        return this;
    }

    public NDManager manager() {
        return manager;
    }

    /** The tensor stored under {@code key}, as float32, which must have exactly {@code shape}. */
    public NDArray take(String key, long... shape) {
        if (taken.containsKey(key)) {
            throw new IllegalStateException("weight '" + key + "' taken twice");
        }
        NDArray value;
        if (placeholders) {
            value = ForwardScope.detach(manager.zeros(new Shape(1)).broadcast(new Shape(shape)));
        } else if (source == null) {
            value = generate(key, shape);
        } else {
            TensorInfo info = source.info(key).orElse(null);
            if (info == null) {
                missing.add(key);
                value = placeholder(shape);
            } else if (!Arrays.equals(info.shape(), shape)) {
                wrongShape.add(key + " " + Arrays.toString(info.shape()) + " (expected " + Arrays.toString(shape) + ")");
                value = placeholder(shape);
            } else {
                value = Tensors.load(manager, info, source.data(key));
            }
        }
        taken.put(key, value);
        return value;
    }

    private NDArray placeholder(long[] shape) {
        return ForwardScope.detach(manager.zeros(new Shape(shape)));
    }

    /** Every tensor taken so far, in order (to write a generated model). */
    public Map<String, NDArray> taken() {
        return java.util.Collections.unmodifiableMap(taken);
    }

    /** Fails with one line naming every missing, wrongly shaped and unused tensor. */
    public void verify() {
        List<String> unused = new ArrayList<>();
        if (source != null) {
            for (String name : source.names()) {
                if (!taken.containsKey(name) && !ignorable.test(name)) {
                    unused.add(name);
                }
            }
        }
        if (missing.isEmpty() && wrongShape.isEmpty() && unused.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder(component).append(" weights in ")
                .append(source.describe()).append(" do not fit its config:");
        appendList(sb, "missing", missing);
        appendList(sb, "wrong shape", wrongShape);
        appendList(sb, "unexpected", unused);
        sb.append(" — check that config.json belongs to these weights");
        throw new WeightsException(sb.toString());
    }

    private static void appendList(StringBuilder sb, String what, List<String> names) {
        if (names.isEmpty()) {
            return;
        }
        sb.append(' ').append(what).append(' ').append(names.size()).append(": ");
        sb.append(String.join(", ", names.subList(0, Math.min(LIST_LIMIT, names.size()))));
        if (names.size() > LIST_LIMIT) {
            sb.append(", … (+").append(names.size() - LIST_LIMIT).append(" more)");
        }
        sb.append(';');
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
