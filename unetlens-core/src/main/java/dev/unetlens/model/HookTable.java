package dev.unetlens.model;

import ai.djl.ndarray.NDArray;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The flat registry of a component's hook points: every module's output (named by its path) and every extra
 * point, numbered in module-tree order. The user-facing hook API (package {@code hook}) installs
 * {@link Listener}s here; modules only call {@link #fire}.
 */
public final class HookTable {
    private final Module root;
    private final List<PointInfo> points = new ArrayList<>();
    private final java.util.Map<String, PointInfo> byName = new java.util.HashMap<>();
    private final Listener[] listeners;
    private ForwardContext context = ForwardContext.NONE;

    /**
     * A hook point.
     *
     * @param slot   its number in this table
     * @param name   the module path, or {@code path:internal}, or the extra sub-path
     * @param module the module that emits it
     * @param output true for a module's own output, false for an extra point
     */
    public record PointInfo(int slot, String name, Module module, boolean output) {
    }

    /**
     * Receives a point's tensor; returns it unchanged or a replacement of the same shape (the forward continues with
     * a copy of a replacement, so the listener keeps its own). What it is given is valid only during the call: copy
     * what you keep.
     */
    @FunctionalInterface
    public interface Listener {
        NDArray apply(PointInfo point, NDArray input, NDArray output, ForwardContext context);
    }

    public HookTable(Module root) {
        this.root = root;
        register(root);
        for (PointInfo p : points) {
            byName.putIfAbsent(p.name(), p);
        }
        this.listeners = new Listener[points.size()];
    }

    private void register(Module m) {
        int first = points.size();
        m.attach(this, first);
        points.add(new PointInfo(first, m.path(), m, true));
        for (String extra : m.extraPointNames()) {
            points.add(new PointInfo(points.size(), extra, m, false));
        }
        for (Module c : m.children()) {
            register(c);
        }
    }

    public Module root() {
        return root;
    }

    /** Every hook point in module-tree order. */
    public List<PointInfo> points() {
        return Collections.unmodifiableList(points);
    }

    /** The point called {@code name} (a module path, {@code path:internal} or an extra sub-path). */
    public java.util.Optional<PointInfo> find(String name) {
        return java.util.Optional.ofNullable(byName.get(name));
    }

    NDArray fire(int slot, NDArray input, NDArray output) {
        Listener l = listeners[slot];
        if (l == null) {
            return output;
        }
        NDArray r = l.apply(points.get(slot), input, output, context);
        // a replacement may be a tensor the listener keeps (a recorded run's activation): the forward gets its own
        // copy, so that modules may free the values that flow through them
        return r == output || r == input ? r : r.duplicate();
    }

    boolean isListening(int slot) {
        return listeners[slot] != null;
    }

    /** Installs (or, with null, removes) the listener of a slot; returns the one it replaced. */
    public Listener setListener(int slot, Listener listener) {
        Listener old = listeners[slot];
        listeners[slot] = listener;
        return old;
    }

    public Listener listener(int slot) {
        return listeners[slot];
    }

    public ForwardContext context() {
        return context;
    }

    /**
     * Unhooks every module from this table until the returned handle is closed: while detached, {@code emit} does
     * not even look at the table, as in a model built without hook points. For measuring what points that nobody
     * listens to cost ({@code unetlens bench --hook-overhead}); listeners installed meanwhile take effect on close.
     */
    public Detached detach() {
        for (PointInfo p : points) {
            if (p.output()) {
                p.module().attach(null, -1);
            }
        }
        return () -> {
            for (PointInfo p : points) {
                if (p.output()) {
                    p.module().attach(this, p.slot());
                }
            }
        };
    }

    /** Handle of {@link #detach()}: closing it hooks the modules up again. */
    @FunctionalInterface
    public interface Detached extends AutoCloseable {
        @Override
        void close();
    }

    /** Whether any point has a listener (a capture, an edit, a progress watch). */
    public boolean hasListeners() {
        for (Listener l : listeners) {
            if (l != null) {
                return true;
            }
        }
        return false;
    }

    /** Sets the run state that hooks will see during the next forwards. */
    public void setContext(ForwardContext context) {
        this.context = context;
    }

    /** Runs {@code forward} with hooks seeing {@code context}, then restores the one before. */
    public <T> T during(ForwardContext context, java.util.function.Supplier<T> forward) {
        ForwardContext before = this.context;
        this.context = context;
        try {
            return forward.get();
        } finally {
            this.context = before;
        }
    }
}
