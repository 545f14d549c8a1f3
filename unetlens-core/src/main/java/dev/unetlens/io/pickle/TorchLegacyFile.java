package dev.unetlens.io.pickle;

import dev.unetlens.Messages;
import dev.unetlens.io.DType;
import dev.unetlens.io.pickle.Py.None;
import dev.unetlens.io.pickle.Py.PyDict;
import dev.unetlens.io.pickle.Py.PyList;
import dev.unetlens.io.pickle.Py.Tuple;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * The legacy layout of {@code torch.save} ({@code _legacy_save} in {@code torch/serialization.py}; every save
 * before PyTorch 1.6, and later ones with {@code _use_new_zipfile_serialization=False}): five pickles one after the
 * other (the magic number {@code 0x1950a86a20f9469cfc6c}, the protocol version 1001, a system-info dict that must say
 * little-endian, the object itself, the list of storage keys), then for each key in that order the storage: an
 * 8-byte little-endian element count and the raw bytes. Persistent ids are
 * {@code ('storage', torch.<T>Storage, root_key, location, numel, view)}, where {@code view} is None or
 * {@code (view_key, offset, size)} into the root storage. The much older tar layout is not read.
 */
final class TorchLegacyFile {
    static final BigInteger MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    static final long PROTOCOL = 1001;

    private TorchLegacyFile() {
    }

    static TorchCheckpoint.Parsed read(String file, MemorySegment bytes) {
        long end = bytes.byteSize();
        PickleMachine m = next(bytes, 0, end, file);
        Object magic = m.run();
        if (!(magic instanceof BigInteger b && b.equals(MAGIC))) {
            throw new PickleException(file + ": a Python pickle, but not a PyTorch checkpoint (no torch.save magic"
                    + " number; it holds a " + Py.typeName(magic) + ")");
        }
        PickleMachine version = next(bytes, m.position(), end, file);
        Object protocol = version.run();
        if (!(protocol instanceof Long p && p == PROTOCOL)) {
            throw new PickleException(file + ": a legacy torch.save file of protocol " + Messages.value(protocol)
                    + "; unetlens reads protocol " + PROTOCOL);
        }
        PickleMachine info = next(bytes, version.position(), end, file);
        Object sys = info.run();
        if (!(sys instanceof PyDict d) || !Boolean.TRUE.equals(d.items.get("little_endian"))) {
            throw new PickleException(file + ": a legacy torch.save file written on a big-endian machine, or without"
                    + " its system info; unetlens reads little-endian checkpoints");
        }
        Storages storages = new Storages(file);
        PickleMachine object = new PickleMachine(bytes, info.position(), end, 0, file, storages::load);
        Object root = object.run();
        PickleMachine keys = next(bytes, object.position(), end, file);
        Object list = keys.run();
        if (!(list instanceof PyList l) || !l.stream().allMatch(k -> k instanceof String)) {
            throw new PickleException(file + ": the storage key list is a " + Py.typeName(list) + ", not a list of"
                    + " strings");
        }
        storages.locate(bytes, keys.position(), l);
        return new TorchCheckpoint.Parsed(root, storages, "legacy");
    }

    private static PickleMachine next(MemorySegment bytes, long from, long end, String file) {
        return new PickleMachine(bytes, from, end, 0, file, (pid, at) -> {
            throw new PickleException(file + ": a persistent id " + at + " outside the object pickle");
        });
    }

    /** Root storages by key: their type and size from the ids, their place in the file from the tail. */
    private static final class Storages implements TorchCheckpoint.Storages {
        private record Root(DType dtype, long elements) {
        }

        private final String file;
        private final Map<String, Root> roots = new HashMap<>();
        private final Map<String, Long> starts = new HashMap<>();

        Storages(String file) {
            this.file = file;
        }

        Object load(Object pid, String at) {
            String what = file + ": persistent id " + at;
            if (!(pid instanceof Tuple t) || t.size() != 6 || !"storage".equals(t.get(0))
                    || !(t.get(2) instanceof String key) || !(t.get(3) instanceof String)
                    || !(t.get(4) instanceof Long numel) || numel < 0) {
                throw new PickleException(what + " is not ('storage', type, key, location, numel, view)");
            }
            DType dtype = TorchGlobals.storageType(t.get(1));
            if (dtype == null) {
                throw new PickleException(what + " names a " + Py.typeName(t.get(1)) + " instead of a storage type");
            }
            Root root = new Root(dtype, numel);
            Root old = roots.putIfAbsent(key, root);
            if (old != null && !old.equals(root)) {
                throw new PickleException(what + ": storage " + Messages.quote(key) + " is named with two types or sizes");
            }
            if (t.get(5) instanceof None) {
                return new StorageRef(key, dtype, numel, 0);
            }
            if (!(t.get(5) instanceof Tuple v) || v.size() != 3 || !(v.get(0) instanceof String)
                    || !(v.get(1) instanceof Long offset) || !(v.get(2) instanceof Long size)
                    || offset < 0 || size < 0 || offset > numel || size > numel - offset) {
                throw new PickleException(what + ": its view is not (key, offset, size) inside the root storage");
            }
            return new StorageRef(key, dtype, size, offset);
        }

        /** Walks the tail: for each key, an 8-byte element count that must match the ids, then the bytes. */
        void locate(MemorySegment bytes, long from, PyList keys) {
            long at = from;
            long end = bytes.byteSize();
            for (Object k : keys) {
                String key = (String) k;
                Root root = roots.get(key);
                if (root == null || starts.containsKey(key)) {
                    throw new PickleException(file + ": the storage list names " + Messages.quote(key)
                            + (root == null ? ", which no tensor uses" : " twice"));
                }
                if (at > end - 8) {
                    throw new PickleException(file + ": storage " + Messages.quote(key) + " would start at byte " + at
                            + ", past the end of the file (truncated?)");
                }
                long count = bytes.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at);
                if (count != root.elements) {
                    throw new PickleException(file + ": storage " + Messages.quote(key) + " at byte " + at + " holds "
                            + count + " elements, its id says " + root.elements);
                }
                long size = root.elements * root.dtype.size();
                if (size / root.dtype.size() != root.elements || size > end - at - 8) {
                    throw new PickleException(file + ": storage " + Messages.quote(key) + " of " + root.elements + " "
                            + root.dtype + " elements runs past the end of the file (truncated?)");
                }
                starts.put(key, at + 8);
                at += 8 + size;
            }
            for (String key : roots.keySet()) {
                if (!starts.containsKey(key)) {
                    throw new PickleException(file + ": storage " + Messages.quote(key) + " is used but not stored");
                }
            }
        }

        @Override
        public long start(StorageRef s) {
            return starts.get(s.key());
        }

        @Override
        public void verify(StorageRef s) {
            // the legacy layout has no checksums
        }
    }
}
