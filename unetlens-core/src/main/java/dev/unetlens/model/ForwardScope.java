package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

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
 *
 * <p>A {@linkplain #consuming consuming} scope also frees large maps before it closes, as Python's reference counts
 * do in diffusers: each module output made in it is freed as soon as the next module has read it, so a block forward
 * is the plain diffusers data flow ({@code h = norm1(x); h = conv1(act(h)); …}) and still holds one or two of its
 * 128–256 MB maps at a time instead of all of them (the VAE at 512×512).
 */
public final class ForwardScope implements AutoCloseable {
    /**
     * Module outputs a consuming scope frees early: from 32 MiB, glibc's largest mmap threshold on 64-bit. glibc
     * maps blocks that large fresh and hands them straight back to the kernel when they are freed, so freeing them early lowers the peak (VAE decode at 512×512: 3.7 → 2.1 GB);
     * smaller ones come from malloc's heap, where early frees made the U-Net at 64×64 batch 2 8 % slower for no RSS
     * gain (measured), so they wait for the scope's end.
     */
    static final long EARLY_FREE_BYTES = 32L << 20;
    /** The open scopes of this thread, innermost first (NDScope's are per thread too). */
    private static final ThreadLocal<ArrayDeque<ForwardScope>> OPEN = ThreadLocal.withInitial(ArrayDeque::new);

    private final NDScope scope = new NDScope();
    private final List<NDArray> kept = new ArrayList<>();
    private final Set<NDArray> inputs;     // consuming: the forward's inputs, never freed or written over; else null
    private final Set<NDArray> outputs;    // consuming: module outputs made here and not yet read by a module

    public ForwardScope() {
        this(null);
    }

    private ForwardScope(Set<NDArray> inputs) {
        this.inputs = inputs;
        this.outputs = inputs == null ? null : Collections.newSetFromMap(new IdentityHashMap<>());
        OPEN.get().push(this);
    }

    /**
     * A scope for a forward whose module outputs are each read by one module, the next (a chain of layers, a
     * resnet's main branch): a module output made inside it is freed once a module has read it — when that module
     * emits its own output — if it is large ({@link #EARLY_FREE_BYTES}). A module output is also always this
     * forward's own: where a hook hands back one of {@code inputs} as a module's output, the forward gets a copy, so
     * it may write over module outputs in place ({@code h.addi(t)}). The {@code inputs} are never freed or written
     * over here; the caller owns them.
     */
    public static ForwardScope consuming(NDArray... inputs) {
        Set<NDArray> in = Collections.newSetFromMap(new IdentityHashMap<>());
        Collections.addAll(in, inputs);
        return new ForwardScope(in);
    }

    /** Keeps {@code array} alive past this scope; returns it. */
    public <T extends NDArray> T keep(T array) {
        NDScope.unregister(array);
        kept.add(array);
        if (outputs != null) {
            outputs.remove(array);
        }
        return array;
    }

    /** Removes {@code array} from all scope tracking: it lives until its manager or the caller closes it. */
    public static <T extends NDArray> T detach(T array) {
        NDScope.unregister(array);
        return array;
    }

    /**
     * A module has read {@code input} and made {@code output} (what its hook point handed on): in a consuming scope,
     * frees {@code input} if it is a large module output of this scope, and returns {@code output}, copied if it is
     * one of the scope's inputs. Elsewhere returns {@code output}. Called by {@link Module#emit(NDArray, NDArray)}.
     */
    static NDArray read(NDArray input, NDArray output) {
        ForwardScope s = OPEN.get().peek();
        return s == null || s.inputs == null ? output : s.consume(input, output);
    }

    private NDArray consume(NDArray input, NDArray output) {
        NDArray out = inputs.contains(output) ? output.duplicate() : output;   // a hook handed back an input
        if (input != out && outputs.remove(input) && input.size() * input.getDataType().getNumOfBytes() >= EARLY_FREE_BYTES) {
            input.close();
        }
        outputs.add(out);
        return out;
    }

    @Override
    public void close() {
        OPEN.get().remove(this);
        scope.close();
        for (NDArray a : kept) {
            NDScope.register(a);
        }
    }
}
