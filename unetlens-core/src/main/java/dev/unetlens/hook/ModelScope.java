package dev.unetlens.hook;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The hooks of one run on any components of a model: a {@link HookScope} per component, opened when a hook is first
 * added there and closed together. Captures name their points as {@link ModulePath#qualified()} does
 * ({@code vae:decoder.up_blocks.0}; U-Net points bare).
 *
 * <pre>{@code
 * try (ModelScope scope = ModelScope.open(ModelHooks.of(sd))) {
 *     scope.capture(hooks.resolve("text_encoder:text_model.encoder.layers.0, IN05", Component.UNET),
 *             Capture.Rows.ALL, sink);
 *     pipeline.generate(request);
 * }
 * }</pre>
 */
public final class ModelScope implements AutoCloseable {
    private final ModelHooks hooks;
    private final Map<Component, HookScope> scopes = new EnumMap<>(Component.class);

    private ModelScope(ModelHooks hooks) {
        this.hooks = hooks;
    }

    public static ModelScope open(ModelHooks hooks) {
        return new ModelScope(hooks);
    }

    public ModelHooks hooks() {
        return hooks;
    }

    /** The scope on component {@code c}'s hooks (opened on first use). */
    public HookScope scope(Component c) {
        return scopes.computeIfAbsent(c, k -> HookScope.open(hooks.table(k)));
    }

    /** Adds a hook at a point of any component. */
    public ModelScope add(ModulePath point, Hook hook) {
        scope(point.component()).add(point.value(), hook);
        return this;
    }

    /**
     * Streams the points' tensors to {@code sink} (one forward per sampling step, as {@link HookScope#capture}), each
     * capture named by its qualified point name.
     */
    public ModelScope capture(Collection<ModulePath> points, Capture.Rows rows, Capture.Sink sink) {
        Map<Component, List<String>> byComponent = new EnumMap<>(Component.class);
        for (ModulePath p : points) {
            byComponent.computeIfAbsent(p.component(), k -> new ArrayList<>()).add(p.value());
        }
        byComponent.forEach((c, names) -> scope(c).capture(names, rows,
                c == Component.UNET ? sink : capture -> sink.accept(capture.named(c.cliName() + ":" + capture.point()))));
        return this;
    }

    @Override
    public void close() {
        scopes.values().forEach(HookScope::close);
        scopes.clear();
    }
}
