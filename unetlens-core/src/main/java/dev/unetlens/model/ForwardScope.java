package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

import java.util.ArrayList;
import java.util.List;

/**
 * Frees every NDArray created inside it when closed, except those handed out with {@link #keep}; kept arrays
 * are given to the enclosing scope, if there is one. Wrap each forward (each sampling step) in one, so native
 * memory stays flat however many forwards run:
 *
 * <pre>{@code
 * try (ForwardScope scope = new ForwardScope()) {
 *     return scope.keep(unet.forward(latents, t, context));
 * }
 * }</pre>
 */
public final class ForwardScope implements AutoCloseable {
    private final NDScope scope = new NDScope();
    private final List<NDArray> kept = new ArrayList<>();

    /** Keeps {@code array} alive past this scope; returns it. */
    public <T extends NDArray> T keep(T array) {
        NDScope.unregister(array);
        kept.add(array);
        return array;
    }

    /** Removes {@code array} from all scope tracking: it lives until its manager or the caller closes it. */
    public static <T extends NDArray> T detach(T array) {
        NDScope.unregister(array);
        return array;
    }

    @Override
    public void close() {
        scope.close();
        for (NDArray a : kept) {
            NDScope.register(a);
        }
    }
}
