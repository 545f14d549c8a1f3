package dev.unetlens.io;

import dev.unetlens.Messages;

import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Tensors of other sources under names of its own: a selection, a renaming or a mix, with the stored bytes of the
 * originals. Valid while they are open; closing a view closes nothing.
 */
public final class TensorView implements TensorSource {
    private record Ref(TensorSource source, String name, TensorInfo info) {
    }

    private final String description;
    private final Map<String, Ref> refs;

    private TensorView(String description, Map<String, Ref> refs) {
        this.description = description;
        this.refs = Collections.unmodifiableMap(refs);
    }

    /** Collects a view's tensors in order. */
    public static final class Builder {
        private final String description;
        private final Map<String, Ref> refs = new LinkedHashMap<>();

        public Builder(String description) {
            this.description = description;
        }

        /** {@code source}'s tensor {@code name} as {@code as}; a later tensor of the same name replaces it. */
        public Builder put(String as, TensorSource source, String name) {
            TensorInfo t = source.info(name).orElseThrow(() -> new IllegalArgumentException("no tensor " + name));
            refs.put(as, new Ref(source, name, new TensorInfo(as, t.dtype(), t.shape(), t.begin(), t.end())));
            return this;
        }

        public TensorView build() {
            return new TensorView(description, new LinkedHashMap<>(refs));
        }
    }

    @Override
    public List<String> names() {
        return List.copyOf(refs.keySet());
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        Ref r = refs.get(name);
        return r == null ? Optional.empty() : Optional.of(r.info);
    }

    @Override
    public MemorySegment data(String name) {
        Ref r = refs.get(name);
        if (r == null) {
            throw new SafetensorsException(description + ": no tensor " + Messages.quote(name));
        }
        return r.source.data(r.name);
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        // the sources belong to whoever opened them
    }
}
