package dev.unetlens.io.pickle;

import dev.unetlens.Messages;
import dev.unetlens.io.DType;
import dev.unetlens.io.pickle.Py.Bytes;
import dev.unetlens.io.pickle.Py.Global;
import dev.unetlens.io.pickle.Py.None;
import dev.unetlens.io.pickle.Py.Opaque;
import dev.unetlens.io.pickle.Py.PyDict;
import dev.unetlens.io.pickle.Py.PyList;
import dev.unetlens.io.pickle.Py.PySet;
import dev.unetlens.io.pickle.Py.Tuple;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The globals a PyTorch state dict pickle may name, and what calling each means. Three kinds:
 * <ul>
 *   <li>builders: {@code collections.OrderedDict}, {@code builtins.set}, {@code torch.Size},
 *       {@code _codecs.encode} (protocol 2's way to write bytes), and the tensor rebuilders
 *       {@code torch._utils._rebuild_tensor_v2} (what every tensor pickles as), {@code _rebuild_tensor} (older
 *       saves), {@code _rebuild_parameter} and {@code _rebuild_parameter_with_state} ({@code nn.Parameter}s) and
 *       {@code torch._tensor._rebuild_from_type_v2} (a tensor with Python attributes, whose attributes are
 *       dropped): each makes inert data ({@link Py}, {@link StoredTensor}), checked as it is made;</li>
 *   <li>names that are only arguments: the {@code torch.*Storage} classes of persistent ids, {@code torch.Tensor}
 *       and {@code torch.nn.parameter.Parameter};</li>
 *   <li>inert globals that real Stable Diffusion checkpoints carry outside their weights (the list A1111's
 *       {@code modules/safe.py} allows): PyTorch Lightning's {@code ModelCheckpoint} class, used as the key of its
 *       callback state; numpy scalars and arrays ({@code numpy.core.multiarray.scalar}, {@code _reconstruct},
 *       {@code numpy.dtype}, {@code numpy.ndarray}) in that state; torch dtypes ({@code torch.float16}). Calling one
 *       records its arguments as an {@link Opaque} value and runs nothing.</li>
 * </ul>
 * Any other global is refused where it is named.
 */
final class TorchGlobals {
    private enum Kind {
        ORDERED_DICT, SET, SIZE, CODECS_ENCODE,
        REBUILD_TENSOR_V2, REBUILD_TENSOR, REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE, REBUILD_FROM_TYPE_V2,
        STORAGE, TENSOR_TYPE, INERT
    }

    /** {@code torch.<Name>Storage} → element type. */
    static final Map<String, DType> STORAGES = Map.of(
            "FloatStorage", DType.F32, "HalfStorage", DType.F16, "BFloat16Storage", DType.BF16,
            "DoubleStorage", DType.F64, "LongStorage", DType.I64, "IntStorage", DType.I32,
            "ShortStorage", DType.I16, "CharStorage", DType.I8, "ByteStorage", DType.U8, "BoolStorage", DType.BOOL);

    private static final Map<String, Kind> ALLOWED = Map.ofEntries(
            Map.entry("collections.OrderedDict", Kind.ORDERED_DICT),
            Map.entry("builtins.set", Kind.SET),
            Map.entry("__builtin__.set", Kind.SET),
            Map.entry("builtins.frozenset", Kind.SET),
            Map.entry("__builtin__.frozenset", Kind.SET),
            Map.entry("torch.Size", Kind.SIZE),
            Map.entry("_codecs.encode", Kind.CODECS_ENCODE),
            Map.entry("torch._utils._rebuild_tensor_v2", Kind.REBUILD_TENSOR_V2),
            Map.entry("torch._utils._rebuild_tensor", Kind.REBUILD_TENSOR),
            Map.entry("torch._utils._rebuild_parameter", Kind.REBUILD_PARAMETER),
            Map.entry("torch._utils._rebuild_parameter_with_state", Kind.REBUILD_PARAMETER_WITH_STATE),
            Map.entry("torch._tensor._rebuild_from_type_v2", Kind.REBUILD_FROM_TYPE_V2),
            Map.entry("torch.Tensor", Kind.TENSOR_TYPE),
            Map.entry("torch.nn.parameter.Parameter", Kind.TENSOR_TYPE),
            Map.entry("pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint", Kind.INERT),
            Map.entry("numpy.core.multiarray.scalar", Kind.INERT),
            Map.entry("numpy.core.multiarray._reconstruct", Kind.INERT),
            Map.entry("numpy._core.multiarray.scalar", Kind.INERT),
            Map.entry("numpy._core.multiarray._reconstruct", Kind.INERT),
            Map.entry("numpy.dtype", Kind.INERT),
            Map.entry("numpy.ndarray", Kind.INERT));

    /** torch dtype objects ({@code torch.float16}), which pickle as globals of that name. */
    private static final List<String> DTYPES = List.of("float16", "float32", "float64", "bfloat16", "half", "float",
            "double", "int64", "int32", "int16", "int8", "uint8", "bool", "long", "int");

    private TorchGlobals() {
    }

    private static Kind kind(Global g) {
        if (g.module().equals("torch")) {
            if (g.name().endsWith("Storage") && STORAGES.containsKey(g.name())) {
                return Kind.STORAGE;
            }
            if (DTYPES.contains(g.name())) {
                return Kind.INERT;
            }
        }
        return ALLOWED.get(g.module() + "." + g.name());
    }

    /** The global {@code module.name} if it is on the whitelist; else the one-line refusal. */
    static Global resolve(String module, String name, Function<String, PickleException> fail, String at) {
        Global g = new Global(module, name);
        if (kind(g) == null) {
            throw fail.apply("global " + Messages.quote(module + "." + name) + " " + at + " is not one a PyTorch"
                    + " state dict uses; unetlens runs no pickle code and refuses the file");
        }
        return g;
    }

    /** The element type of a {@code torch.*Storage} global, or null if {@code v} is none. */
    static DType storageType(Object v) {
        return v instanceof Global g && kind(g) == Kind.STORAGE ? STORAGES.get(g.name()) : null;
    }

    /** What REDUCE makes of calling the whitelisted {@code g} with {@code args}. */
    static Object call(Global g, Tuple args, Function<String, PickleException> fail, String at) {
        String what = "REDUCE 'R' " + at + ": " + g + "(" + args.size() + " arguments)";
        return switch (kind(g)) {
            case ORDERED_DICT -> orderedDict(args, fail, what);
            case SET -> set(args, fail, what);
            case SIZE -> size(args, fail, what);
            case CODECS_ENCODE -> encode(args, fail, what);
            case REBUILD_TENSOR_V2 -> {
                if (args.size() < 6 || args.size() > 7 || !(args.get(4) instanceof Boolean)) {
                    throw fail.apply(what + " is not (storage, offset, size, stride, requires_grad, hooks[, metadata])");
                }
                noHooks(args.get(5), fail, what);
                yield tensor(args, fail, what);
            }
            case REBUILD_TENSOR -> {
                if (args.size() != 4) {
                    throw fail.apply(what + " is not (storage, offset, size, stride)");
                }
                yield tensor(args, fail, what);
            }
            case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE -> {
                int n = kind(g) == Kind.REBUILD_PARAMETER ? 3 : 4;
                if (args.size() != n || !(args.get(0) instanceof StoredTensor t) || !(args.get(1) instanceof Boolean)) {
                    throw fail.apply(what + " is not (tensor, requires_grad, hooks" + (n == 4 ? ", state)" : ")"));
                }
                noHooks(args.get(2), fail, what);
                yield t;
            }
            case REBUILD_FROM_TYPE_V2 -> fromType(args, fail, what, at);
            case STORAGE, TENSOR_TYPE -> throw fail.apply(what + ": " + g + " is only an argument, never called, in a"
                    + " state dict");
            case INERT -> new Opaque(g, args);
        };
    }

    /** BUILD: attributes of a dict (an OrderedDict's {@code _metadata}) or the state of an inert value, kept as data. */
    static void build(Object target, Object state, Function<String, PickleException> fail, String at) {
        if (target instanceof Opaque o) {
            o.state = state;
        } else if (target instanceof PyDict d && state instanceof PyDict s) {
            d.attributes.putAll(s.items);
        } else {
            throw fail.apply("BUILD 'b' " + at + " sets the state of a " + Py.typeName(target) + " to a "
                    + Py.typeName(state) + "; a state dict only sets a dict's attributes");
        }
    }

    private static PyDict orderedDict(Tuple args, Function<String, PickleException> fail, String what) {
        PyDict d = new PyDict();
        if (args.size() == 0) {
            return d;
        }
        if (args.size() == 1 && args.get(0) instanceof PyList pairs) {
            for (Object p : pairs) {
                if (!(p instanceof Tuple t) || t.size() != 2 || !Py.hashable(t.get(0))) {
                    throw fail.apply(what + ": the list holds a " + Py.typeName(p) + " instead of a (key, value) pair");
                }
                d.items.put(t.get(0), t.get(1));
            }
            return d;
        }
        throw fail.apply(what + " is not () or ([(key, value), ...])");
    }

    private static PySet set(Tuple args, Function<String, PickleException> fail, String what) {
        PySet s = new PySet();
        if (args.size() == 0) {
            return s;
        }
        Iterable<?> items = args.size() == 1 ? switch (args.get(0)) {
            case PyList l -> l;
            case Tuple t -> t.items();
            case PySet p -> p.items;
            default -> null;
        } : null;
        if (items == null) {
            throw fail.apply(what + " is not () or (list,)");
        }
        for (Object i : items) {
            if (!Py.hashable(i)) {
                throw fail.apply(what + ": a " + Py.typeName(i) + " cannot be a set item");
            }
            s.items.add(i);
        }
        return s;
    }

    private static Tuple size(Tuple args, Function<String, PickleException> fail, String what) {
        if (args.size() != 1 || !(args.get(0) instanceof Tuple dims) || !dims.items().stream().allMatch(d -> d instanceof Long)) {
            throw fail.apply(what + " is not (tuple of ints,)");
        }
        return dims;
    }

    private static Bytes encode(Tuple args, Function<String, PickleException> fail, String what) {
        if (args.size() < 1 || args.size() > 2 || !(args.get(0) instanceof String text)
                || args.size() == 2 && !(args.get(1) instanceof String)) {
            throw fail.apply(what + " is not (text, encoding)");
        }
        String encoding = args.size() == 2 ? ((String) args.get(1)).toLowerCase(java.util.Locale.ROOT) : "utf-8";
        return switch (encoding) {
            case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1" -> {
                byte[] b = new byte[text.length()];
                for (int i = 0; i < text.length(); i++) {
                    if (text.charAt(i) > 0xff) {
                        throw fail.apply(what + ": the text holds a character past Latin-1");
                    }
                    b[i] = (byte) text.charAt(i);
                }
                yield new Bytes(b);
            }
            case "utf-8", "utf8" -> new Bytes(text.getBytes(StandardCharsets.UTF_8));
            default -> throw fail.apply(what + ": encoding " + Messages.quote(encoding) + " is not latin1 or utf-8");
        };
    }

    private static void noHooks(Object hooks, Function<String, PickleException> fail, String what) {
        if (!(hooks instanceof PyDict d && d.items.isEmpty() || hooks instanceof None)) {
            throw fail.apply(what + ": the tensor has backward hooks (" + Py.typeName(hooks) + "), which are code");
        }
    }

    /** {@code _rebuild_from_type_v2(func, new_type, args, state)}: the plain tensor that {@code func(*args)} makes. */
    private static Object fromType(Tuple args, Function<String, PickleException> fail, String what, String at) {
        if (args.size() != 4 || !(args.get(0) instanceof Global func) || !(args.get(1) instanceof Global type)
                || kind(type) != Kind.TENSOR_TYPE || !(args.get(2) instanceof Tuple inner)) {
            throw fail.apply(what + " is not (rebuild function, torch.Tensor or Parameter, arguments, state)");
        }
        Kind k = kind(func);
        if (k != Kind.REBUILD_TENSOR_V2 && k != Kind.REBUILD_TENSOR && k != Kind.REBUILD_PARAMETER) {
            throw fail.apply(what + ": " + func + " does not rebuild a tensor");
        }
        return call(func, inner, fail, at);
    }

    /**
     * A tensor from {@code (storage, offset, size, stride, ...)}: non-negative integers, at most 64 dimensions, and
     * every element it addresses inside the storage (computed without overflow).
     */
    private static StoredTensor tensor(Tuple args, Function<String, PickleException> fail, String what) {
        if (!(args.get(0) instanceof StorageRef storage)) {
            throw fail.apply(what + ": the first argument is a " + Py.typeName(args.get(0)) + ", not a storage");
        }
        if (!(args.get(1) instanceof Long offset) || offset < 0) {
            throw fail.apply(what + ": the storage offset is not a non-negative int");
        }
        long[] shape = ints(args.get(2), fail, what, "size");
        long[] stride = ints(args.get(3), fail, what, "stride");
        if (shape.length != stride.length || shape.length > 64) {
            throw fail.apply(what + ": size " + Messages.shape(shape) + " and stride " + Messages.shape(stride)
                    + " must have the same rank, at most 64");
        }
        try {
            long last = offset;
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                count = Math.multiplyExact(count, shape[i]);
                last = Math.addExact(last, Math.multiplyExact(Math.max(0, shape[i] - 1), stride[i]));
            }
            if (count > 0 ? last >= storage.elements() : offset > storage.elements()) {
                throw fail.apply(what + ": size " + Messages.shape(shape) + ", stride " + Messages.shape(stride)
                        + " at offset " + offset + " reach past the storage's " + storage.elements() + " elements");
            }
        } catch (ArithmeticException e) {
            throw fail.apply(what + ": size " + Messages.shape(shape) + " and stride " + Messages.shape(stride)
                    + " overflow 64 bits");
        }
        return new StoredTensor(storage, offset, shape, stride);
    }

    private static long[] ints(Object v, Function<String, PickleException> fail, String what, String field) {
        if (!(v instanceof Tuple t)) {
            throw fail.apply(what + ": the " + field + " is a " + Py.typeName(v) + ", not a tuple of ints");
        }
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(t.get(i) instanceof Long l) || l < 0) {
                throw fail.apply(what + ": the " + field + " holds " + Messages.value(Py.typeName(t.get(i)))
                        + " " + (t.get(i) instanceof Long ? t.get(i) : "") + ", not a non-negative int");
            }
            out[i] = l;
        }
        return out;
    }
}
