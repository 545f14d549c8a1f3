package dev.unetlens.intervene;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.UnetlensException;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.HookContext;
import dev.unetlens.hook.HookScope;
import dev.unetlens.model.ForwardScope;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.IntPredicate;

/**
 * Copies of hook-point tensors from one run, by point and 0-based U-Net evaluation, that outlive the run's hook scope:
 * the clean run of activation patching, the baseline of a difference. Evaluations, not steps, so that a replay of the
 * same request finds each of its evaluations' counterpart, PNDM's warm-up evaluation included
 * ({@link dev.unetlens.pipeline.StepPlan}). Owns its arrays; close it when done.
 */
public final class Recording implements AutoCloseable {
    private final NDManager manager;
    private final Map<String, TreeMap<Integer, NDArray>> values = new TreeMap<>();

    /** An empty recording whose arrays live in a sub-manager of {@code parent} (e.g. the model's manager). */
    public Recording(NDManager parent) {
        this.manager = parent.newSubManager();
    }

    /**
     * Records {@code points} at every U-Net evaluation of the steps {@code steps} accepts (0-based; −1 outside a
     * sampling loop), keeping the batch rows {@code rows} selects, during the runs {@code scope} is open for.
     */
    public void record(HookScope scope, Collection<String> points, IntPredicate steps, Capture.Rows rows) {
        scope.captureEvaluations(points, rows, c -> {
            if (steps.test(c.step())) {
                NDArray copy = ForwardScope.detach(c.value().duplicate());
                copy.attach(manager);
                NDArray old;
                synchronized (values) {
                    old = values.computeIfAbsent(c.point(), k -> new TreeMap<>()).put(c.evaluation(), copy);
                }
                if (old != null) {
                    old.close();
                }
            }
        });
    }

    /** Records each point at its 0-based steps (null: every step), e.g. {@link Intervention#patchPoints()}. */
    public void record(HookScope scope, Map<String, ? extends Set<Integer>> pointSteps, Capture.Rows rows) {
        pointSteps.forEach((point, steps) -> record(scope, List.of(point), steps == null ? s -> true : steps::contains, rows));
    }

    /** Whether {@code point} was recorded at 0-based U-Net evaluation {@code evaluation}. */
    public boolean has(String point, int evaluation) {
        TreeMap<Integer, NDArray> m = values.get(point);
        return m != null && m.containsKey(evaluation);
    }

    /** The tensor of {@code point} at 0-based U-Net evaluation {@code evaluation} ({@link HookContext#evaluation()}). */
    public NDArray get(String point, int evaluation) {
        TreeMap<Integer, NDArray> m = values.get(point);
        NDArray v = m == null ? null : m.get(evaluation);
        if (v == null) {
            throw new UnetlensException("nothing recorded at " + point + " U-Net evaluation " + (evaluation + 1)
                    + (m == null ? " (the point was not recorded)" : " (recorded evaluations: "
                    + m.keySet().stream().map(s -> s + 1).toList() + ")"));
        }
        return v;
    }

    /** The points recorded. */
    public java.util.Set<String> points() {
        return Collections.unmodifiableSet(values.keySet());
    }

    /** The 0-based U-Net evaluations recorded for {@code point}. */
    public SortedSet<Integer> evaluations(String point) {
        TreeMap<Integer, NDArray> m = values.get(point);
        return m == null ? new TreeSet<>() : new TreeSet<>(m.keySet());
    }

    @Override
    public void close() {
        manager.close();
        values.clear();
    }
}
