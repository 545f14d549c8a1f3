package dev.unetlens.hook;

import ai.djl.ndarray.NDArray;
import dev.unetlens.UnetlensException;
import dev.unetlens.model.ForwardContext;
import dev.unetlens.model.HookTable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The hooks installed on one component's {@link HookTable}: for each point, the hooks of all open scopes, run in
 * the order they were added. Reach it through {@link HookScope#open}; scopes add and remove their own hooks.
 */
final class HookRegistry {
    private static final Map<HookTable, HookRegistry> REGISTRIES = new WeakHashMap<>();

    private final HookTable table;
    private final List<List<Entry>> chains;

    private record Entry(HookScope scope, Hook hook) {
    }

    private HookRegistry(HookTable table) {
        this.table = table;
        this.chains = new ArrayList<>();
        for (int i = 0; i < table.points().size(); i++) {
            chains.add(new ArrayList<>());
        }
    }

    static synchronized HookRegistry of(HookTable table) {
        return REGISTRIES.computeIfAbsent(table, HookRegistry::new);
    }

    HookTable table() {
        return table;
    }

    /** The point called {@code name}; an unknown name fails with the nearest valid names. */
    HookTable.PointInfo resolve(ModulePath name) {
        return table.find(name.value()).orElseThrow(() -> unknown(name.value()));
    }

    private UnetlensException unknown(String name) {
        List<String> nearest = table.points().stream().map(HookTable.PointInfo::name)
                .filter(n -> !n.isEmpty())
                .sorted(Comparator.comparingInt((String n) -> Levenshtein.distance(name, n)).thenComparing(n -> n))
                .limit(3).toList();
        return new UnetlensException("unknown module '" + name + "'; nearest valid names: " + String.join(", ", nearest)
                + " (list them all with 'unetlens inspect')");
    }

    synchronized void add(HookScope scope, int slot, Hook hook) {
        chains.get(slot).add(new Entry(scope, hook));
        install(slot);
    }

    synchronized void removeAll(HookScope scope) {
        for (int slot = 0; slot < chains.size(); slot++) {
            if (chains.get(slot).removeIf(e -> e.scope() == scope)) {
                install(slot);
            }
        }
    }

    private void install(int slot) {
        List<Entry> chain = List.copyOf(chains.get(slot));
        if (chain.isEmpty()) {
            table.setListener(slot, null);
            return;
        }
        table.setListener(slot, (point, input, output, ctx) -> run(chain, point, input, output, ctx));
    }

    private static NDArray run(List<Entry> chain, HookTable.PointInfo point, NDArray input, NDArray output,
                               ForwardContext fc) {
        HookContext ctx = new HookContext(point.name(), point.module().typeName(), input, fc);
        NDArray value = output;
        for (Entry e : chain) {
            NDArray next = e.hook().apply(value, ctx);
            if (next == null) {
                throw new UnetlensException("a hook on " + point.name() + " returned null; return the value to keep it");
            }
            if (next != value && !next.getShape().equals(value.getShape())) {
                throw new UnetlensException("a hook on " + point.name() + " returned shape " + next.getShape()
                        + ", expected " + value.getShape() + " (replacements must keep the shape)");
            }
            value = next;
        }
        return value;
    }

    /** Edit distance, for suggesting names. */
    static final class Levenshtein {
        private Levenshtein() {
        }

        static int distance(String a, String b) {
            int[] prev = new int[b.length() + 1];
            int[] cur = new int[b.length() + 1];
            Arrays.setAll(prev, i -> i);
            for (int i = 1; i <= a.length(); i++) {
                cur[0] = i;
                for (int j = 1; j <= b.length(); j++) {
                    int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                    cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
                }
                int[] t = prev;
                prev = cur;
                cur = t;
            }
            return prev[b.length()];
        }
    }
}
