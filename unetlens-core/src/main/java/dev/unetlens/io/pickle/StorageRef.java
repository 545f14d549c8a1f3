package dev.unetlens.io.pickle;

import dev.unetlens.io.DType;

/**
 * A storage that a pickle's persistent id names: {@code ('storage', torch.FloatStorage, key, location, numel)} in the
 * zip format, where the storage is the archive entry {@code data/<key>}; in the legacy format a view of a root storage
 * starting {@code start} elements into it.
 *
 * @param key      the storage's key (the zip entry's name under {@code data/}, or the legacy root key)
 * @param dtype    the element type its {@code torch.*Storage} class names
 * @param elements how many elements it holds
 * @param start    where it starts in its root storage, in elements (0 but for legacy views)
 */
record StorageRef(String key, DType dtype, long elements, long start) {
}
