package dev.unetlens.io;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;

/**
 * Named tensors in raw stored form: one safetensors file, several shards, or a renaming view of another source
 * (a single-file checkpoint seen with diffusers keys).
 */
public interface TensorSource extends AutoCloseable {
    /** Every tensor name, in a stable order. */
    List<String> names();

    Optional<TensorInfo> info(String name);

    /** The stored little-endian bytes of {@code name}; valid until this source is closed. */
    MemorySegment data(String name);

    /** What to call this source in messages (a file path). */
    String describe();

    /**
     * The caller is done with the bytes of {@code name} (a loader has copied them): a source that computed them
     * may free them; reading them again computes them again. Sources of stored bytes do nothing.
     */
    default void release(String name) {
    }

    @Override
    void close();
}
