package dev.unetlens.model;

import ai.djl.ndarray.NDArray;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A node of a model's module tree, named by its diffusers / transformers module path relative to the component
 * ({@code down_blocks.1.attentions.0.transformer_blocks.0.attn2}); the path is also its weight-key prefix and
 * its hook name.
 *
 * <p>Every module's forward ends with {@code return emit(input, output)}: the output passes through the module's
 * hook point, where a listener may keep it or replace it. Tensors that are not module outputs (attention
 * probabilities, the down blocks' skip tensors) get named extra points declared with {@link #point(String)}.
 * With no listener attached, {@code emit} is one array read and a null check.
 */
public abstract class Module {
    private final String path;
    private final List<Module> children = new ArrayList<>();
    private final List<String> extraPoints = new ArrayList<>();
    private HookTable table;
    private int firstSlot = -1;

    protected Module(String path) {
        this.path = path;
    }

    /** The module path ({@code ""} for a component's root). */
    public final String path() {
        return path;
    }

    /** The diffusers class name this module mirrors ({@code ResnetBlock2D}). */
    public String typeName() {
        return getClass().getSimpleName();
    }

    /** Direct children, in registration order. */
    public final List<Module> children() {
        return Collections.unmodifiableList(children);
    }

    /** The path of a child called {@code name}. */
    protected final String sub(String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    /** Registers a child module and returns it. */
    protected final <M extends Module> M add(M child) {
        children.add(child);
        return child;
    }

    /**
     * Declares an extra hook point of this module. A {@code name} that starts with {@code ':'} is an internal
     * tensor ({@code "attn1:probs"}); otherwise it is a sub-path ({@code "down_blocks.0.res_samples.1"}).
     * Call from the constructor.
     */
    protected final Point point(String name) {
        extraPoints.add(name);
        return new Point(extraPoints.size());
    }

    /** The full names of this module's extra points, in declaration order. */
    final List<String> extraPointNames() {
        List<String> out = new ArrayList<>();
        for (String p : extraPoints) {
            out.add(p.startsWith(":") ? path + p : sub(p));
        }
        return out;
    }

    final void attach(HookTable table, int firstSlot) {
        this.table = table;
        this.firstSlot = firstSlot;
    }

    /**
     * Runs {@code body} in its own {@link ForwardScope}: everything it allocates is freed on return except the array
     * it returns. Blocks whose intermediates are large (the VAE's 512×512 maps) free them as they go: see
     * {@link ForwardScope#consuming}.
     */
    protected static NDArray scoped(java.util.function.Supplier<NDArray> body) {
        try (ForwardScope scope = new ForwardScope()) {
            return scope.keep(body.get());
        }
    }

    /**
     * Passes this module's output through its hook point; returns it or a listener's replacement. In a
     * {@linkplain ForwardScope#consuming consuming scope} this is also where {@code input} counts as read.
     */
    protected final NDArray emit(NDArray input, NDArray output) {
        return ForwardScope.read(input, table == null ? output : table.fire(firstSlot, input, output));
    }

    /** Passes an extra point's tensor through its hook point. */
    protected final NDArray emit(Point point, NDArray input, NDArray value) {
        return table == null ? value : table.fire(firstSlot + point.index, input, value);
    }

    /** Whether any listener waits on {@code point}; lets a module skip materialising what nobody reads. */
    protected final boolean listening(Point point) {
        return table != null && table.isListening(firstSlot + point.index);
    }

    /** Whether any listener waits on this module's own output. */
    protected final boolean listening() {
        return table != null && table.isListening(firstSlot);
    }

    /** The run state (step, timestep, CFG rows) of the forward in progress; {@link ForwardContext#NONE} if none. */
    protected final ForwardContext context() {
        return table == null ? ForwardContext.NONE : table.context();
    }

    /** Handle of an extra hook point; index 0 is the module's own output. */
    public static final class Point {
        private final int index;

        private Point(int index) {
            this.index = index;
        }
    }
}
