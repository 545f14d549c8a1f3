package dev.unetlens.hook;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.HookTable;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The hooks of one run: everything added through a scope is removed when it closes, also when the run fails.
 *
 * <pre>{@code
 * try (HookScope scope = HookScope.open(unet.hooks())) {
 *     ActivationCache cache = scope.capture(List.of("down_blocks.1", "mid_block"), Capture.COND);
 *     scope.add("up_blocks.1.attentions.0", Interventions.scale(0.5));
 *     pipeline.generate(request);
 *     NDArray mid = cache.get("mid_block", 3);     // step 3, conditional rows
 * }
 * }</pre>
 */
public final class HookScope implements AutoCloseable {
    private final HookRegistry registry;
    private final List<ActivationCache> caches = new ArrayList<>();
    private boolean closed;

    private HookScope(HookRegistry registry) {
        this.registry = registry;
    }

    /** Opens a scope on a component's hook table (the U-Net's, the VAE's, a text encoder's). */
    public static HookScope open(HookTable table) {
        return new HookScope(HookRegistry.of(table));
    }

    public HookTable table() {
        return registry.table();
    }

    /** The point called {@code name} (dotted or bracket path, optional {@code :internal}); fails with suggestions. */
    public HookTable.PointInfo resolve(String name) {
        return registry.resolve(ModulePath.parse(name));
    }

    /** Adds a hook at a point; hooks at the same point run in the order added. Returns this. */
    public HookScope add(String name, Hook hook) {
        checkOpen();
        registry.add(this, resolve(name).slot(), hook);
        return this;
    }

    /** Adds a hook at several points. */
    public HookScope add(Collection<String> names, Hook hook) {
        for (String n : names) {
            add(n, hook);
        }
        return this;
    }

    /**
     * Captures copies of the named points' tensors into an in-memory cache that lives until this scope closes
     * (or {@link ActivationCache#close}). Like every capture, one forward per sampling step: PNDM's warm-up
     * evaluation ({@link HookContext#warmup()}) is left out.
     */
    public ActivationCache capture(Collection<String> names, Capture.Rows rows) {
        ActivationCache cache = new ActivationCache(rows);
        caches.add(cache);
        for (String n : names) {
            add(n, cache.hook());
        }
        return cache;
    }

    /**
     * Streams the named points' tensors to {@code sink} as they are produced (for writing to disk), one forward per
     * sampling step: PNDM's warm-up evaluation is left out.
     */
    public HookScope capture(Collection<String> names, Capture.Rows rows, Capture.Sink sink) {
        return captureEvery(names, rows, sink, true);
    }

    /**
     * Streams the named points' tensors of every U-Net evaluation, PNDM's warm-up evaluation included (for runs that
     * are replayed evaluation by evaluation: the source of activation patching, the baseline of a difference).
     */
    public HookScope captureEvaluations(Collection<String> names, Capture.Rows rows, Capture.Sink sink) {
        return captureEvery(names, rows, sink, false);
    }

    private HookScope captureEvery(Collection<String> names, Capture.Rows rows, Capture.Sink sink, boolean skipWarmup) {
        Hook h = (value, ctx) -> {
            if (!(skipWarmup && ctx.warmup())) {
                sink.accept(Capture.of(ctx, rows, value));
            }
            return value;
        };
        return add(names, h);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("hook scope is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            registry.removeAll(this);
            caches.forEach(ActivationCache::close);
        }
    }

    /** A hook that returns {@code value} unchanged but lets {@code observer} see it. */
    public static Hook observe(java.util.function.BiConsumer<NDArray, HookContext> observer) {
        return (value, ctx) -> {
            observer.accept(value, ctx);
            return value;
        };
    }
}
