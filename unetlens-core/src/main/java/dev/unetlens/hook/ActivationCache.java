package dev.unetlens.hook;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.unetlens.UnetlensException;
import dev.unetlens.model.ForwardContext;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.TorchRuntime;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Captured hook-point tensors kept in memory, by point and step. Several forwards at the same step (extraction
 * in batches of noise samples) are concatenated along the batch axis, in the order they ran. Owns its arrays:
 * closing it (or its scope) frees them.
 */
public final class ActivationCache implements AutoCloseable {
    private final Capture.Rows rows;
    private final NDManager manager = TorchRuntime.newBaseManager();
    private final Map<String, TreeMap<Integer, List<Entry>>> values = new TreeMap<>();

    private record Entry(NDArray value, double timestep, List<ForwardContext.RowLabel> rows) {
    }

    ActivationCache(Capture.Rows rows) {
        this.rows = rows;
    }

    Hook hook() {
        return (value, ctx) -> {
            if (ctx.warmup()) {
                return value;                                // one forward per step (see HookScope.capture)
            }
            Capture c = Capture.of(ctx, rows, value);
            NDArray copy = ForwardScope.detach(c.value().duplicate());
            copy.attach(manager);
            synchronized (values) {
                values.computeIfAbsent(c.point(), k -> new TreeMap<>())
                        .computeIfAbsent(c.step(), k -> new ArrayList<>())
                        .add(new Entry(copy, c.timestep(), c.rows()));
            }
            return value;
        };
    }

    /** Names of the points captured so far. */
    public Set<String> points() {
        return Collections.unmodifiableSet(values.keySet());
    }

    /** Steps captured for a point (−1 for forwards outside a sampling loop). */
    public List<Integer> steps(String point) {
        TreeMap<Integer, List<Entry>> m = values.get(point);
        return m == null ? List.of() : List.copyOf(m.keySet());
    }

    /** The tensor of {@code point} at {@code step} (all forwards of that step concatenated on axis 0). */
    public NDArray get(String point, int step) {
        List<Entry> list = entries(point, step);
        if (list.size() == 1) {
            return list.getFirst().value();
        }
        NDList parts = new NDList();
        list.forEach(e -> parts.add(e.value()));
        NDArray joined = NDArrays.concat(parts, 0);
        joined.attach(manager);
        return joined;
    }

    /** The row labels of {@code get(point, step)}. */
    public List<ForwardContext.RowLabel> rows(String point, int step) {
        List<ForwardContext.RowLabel> out = new ArrayList<>();
        entries(point, step).forEach(e -> out.addAll(e.rows()));
        return out;
    }

    /** The timestep of the first forward captured at {@code step}. */
    public double timestep(String point, int step) {
        return entries(point, step).getFirst().timestep();
    }

    /** The only step of {@code point} (for single-forward runs). */
    public NDArray get(String point) {
        List<Integer> s = steps(point);
        if (s.size() != 1) {
            throw new UnetlensException(point + " was captured at " + s.size() + " steps; say which with get(point, step)");
        }
        return get(point, s.getFirst());
    }

    private List<Entry> entries(String point, int step) {
        TreeMap<Integer, List<Entry>> m = values.get(point);
        List<Entry> list = m == null ? null : m.get(step);
        if (list == null) {
            throw new UnetlensException("nothing captured at " + point + " step " + step
                    + (m == null ? " (point never fired)" : " (captured steps: " + m.keySet() + ")"));
        }
        return list;
    }

    @Override
    public void close() {
        manager.close();
        values.clear();
    }
}
