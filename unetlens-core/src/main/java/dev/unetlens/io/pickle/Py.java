package dev.unetlens.io.pickle;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Python values the restricted unpickler builds: inert data only. Strings are {@link String}, integers
 * {@link Long} or {@link java.math.BigInteger}, floats {@link Double}, booleans {@link Boolean}; the rest are the
 * types below. No value has behaviour: a {@link Global} is a name, an {@link Opaque} a record of what a whitelisted
 * constructor was called with, never an instance of anything.
 */
final class Py {
    private Py() {
    }

    /** Python's {@code None}. */
    enum None {
        NONE
    }

    /** A tuple (immutable). */
    record Tuple(List<Object> items) {
        Tuple {
            items = List.copyOf(items);
        }

        int size() {
            return items.size();
        }

        Object get(int i) {
            return items.get(i);
        }
    }

    /** A list; appended to by APPEND(S). */
    static final class PyList extends ArrayList<Object> {
        @Override
        public boolean equals(Object o) {
            return this == o;   // identity: lists are unhashable, and a cyclic list must never be walked
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(this);
        }
    }

    /** A dict or {@code collections.OrderedDict} (insertion order kept), with attributes set by BUILD. */
    static final class PyDict {
        final Map<Object, Object> items = new LinkedHashMap<>();
        final Map<Object, Object> attributes = new LinkedHashMap<>();
    }

    /** A set, built by {@code set(list)} or EMPTY_SET/ADDITEMS/FROZENSET. */
    static final class PySet {
        final java.util.Set<Object> items = new java.util.LinkedHashSet<>();
    }

    /** Python {@code bytes} (BINBYTES, or {@code _codecs.encode(text, 'latin1')} in protocol 2). */
    record Bytes(byte[] value) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Bytes b && Arrays.equals(value, b.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "bytes[" + value.length + "]";
        }
    }

    /** A module attribute named by GLOBAL or STACK_GLOBAL and found on the whitelist ({@link TorchGlobals}). */
    record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /**
     * What calling an inert whitelisted global made (a numpy scalar, a Lightning callback class used as a key):
     * the global, its arguments and any BUILD state, kept as data and never interpreted.
     */
    static final class Opaque {
        final Global type;
        final Tuple args;
        Object state;

        Opaque(Global type, Tuple args) {
            this.type = type;
            this.args = args;
        }
    }

    /** The Python type name of a value, for messages. */
    static String typeName(Object v) {
        return switch (v) {
            case null -> "null";
            case None n -> "None";
            case String s -> "str";
            case Long l -> "int";
            case java.math.BigInteger b -> "int";
            case Double d -> "float";
            case Boolean b -> "bool";
            case Tuple t -> "tuple";
            case PyList l -> "list";
            case PyDict d -> "dict";
            case PySet s -> "set";
            case Bytes b -> "bytes";
            case Global g -> g.toString();
            case Opaque o -> o.type + "(...)";
            case StoredTensor t -> "tensor";
            case StorageRef s -> "storage";
            default -> v.getClass().getSimpleName();
        };
    }

    /**
     * Whether {@code v} may be a dict key or set item: a str, int, float, bool, None, bytes, a global, an opaque value,
     * or a tuple of those (one level deep, so that hashing never recurses far).
     */
    static boolean hashable(Object v) {
        if (v instanceof Tuple t) {
            for (Object item : t.items()) {
                if (item instanceof Tuple || !hashableAtom(item)) {
                    return false;
                }
            }
            return true;
        }
        return hashableAtom(v);
    }

    private static boolean hashableAtom(Object v) {
        return v instanceof String || v instanceof Long || v instanceof java.math.BigInteger || v instanceof Double
                || v instanceof Boolean || v instanceof None || v instanceof Bytes || v instanceof Global
                || v instanceof Opaque;
    }
}
