package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.HookTable;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Listens on every hook point of a table: records the firing order and a copy of each value (the value the
 * module produced, before any replacement), and optionally replaces the value of chosen points. Removes its
 * listeners and frees its copies on close.
 */
final class Recorder implements AutoCloseable {
    private final HookTable table;
    private final Map<String, NDArray> values = new LinkedHashMap<>();   // firing order
    private final Map<String, UnaryOperator<NDArray>> replacements = new HashMap<>();

    Recorder(HookTable table) {
        this.table = table;
        for (HookTable.PointInfo p : table.points()) {
            table.setListener(p.slot(), (point, in, out, ctx) -> {
                if (values.containsKey(point.name())) {
                    throw new AssertionError("hook point '" + point.name() + "' fired twice in one forward");
                }
                values.put(point.name(), ForwardScope.detach(out.duplicate()));
                UnaryOperator<NDArray> r = replacements.get(point.name());
                return r == null ? out : r.apply(out);
            });
        }
    }

    /** Replaces the value of {@code point} in the next forwards. */
    Recorder replace(String point, UnaryOperator<NDArray> replacement) {
        if (table.find(point).isEmpty()) {
            throw new AssertionError("no hook point '" + point + "'");
        }
        replacements.put(point, replacement);
        return this;
    }

    /** The points that fired, in firing order. */
    List<String> fired() {
        return new ArrayList<>(values.keySet());
    }

    NDArray get(String point) {
        NDArray v = values.get(point);
        if (v == null) {
            throw new AssertionError("hook point '" + point + "' did not fire");
        }
        return v;
    }

    @Override
    public void close() {
        for (HookTable.PointInfo p : table.points()) {
            table.setListener(p.slot(), null);
        }
        values.values().forEach(NDArray::close);
    }
}
