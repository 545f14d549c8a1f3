package dev.unetlens.golden;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.HookTable;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A test-side capture of hook points by name: installs listeners that keep a copy of each output, and removes
 * them on close. (The user-facing hook API lives in package {@code hook}; this keeps model tests independent.)
 */
public final class Capture implements AutoCloseable {
    private final HookTable table;
    private final Map<String, NDArray> values = new HashMap<>();
    private final List<Integer> slots;

    public Capture(HookTable table, List<String> names) {
        this.table = table;
        this.slots = names.stream().map(n -> table.find(n)
                .orElseThrow(() -> new AssertionError("no hook point '" + n + "'")).slot()).toList();
        for (int slot : slots) {
            table.setListener(slot, (p, in, out, ctx) -> {
                values.put(p.name(), ForwardScope.detach(out.duplicate()));
                return out;
            });
        }
    }

    public NDArray get(String name) {
        NDArray v = values.get(name);
        if (v == null) {
            throw new AssertionError("hook point '" + name + "' did not fire");
        }
        return v;
    }

    @Override
    public void close() {
        for (int slot : slots) {
            table.setListener(slot, null);
        }
        values.values().forEach(NDArray::close);
    }
}
