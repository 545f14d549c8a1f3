package dev.unetlens.fuzz;

import dev.unetlens.io.ldm.LdmFamily;
import dev.unetlens.io.pickle.TorchZipWriter;
import dev.unetlens.io.pickle.TorchZipWriter.Ops;
import dev.unetlens.io.pickle.TorchZipWriter.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * A micro checkpoint saved as {@code torch.save} saves it (zip, one case in five the legacy layout) with its pickle
 * replaced or edited: random opcode streams, byte edits and truncations of the real pickle, deep nesting (10,000+
 * MARKs, a million nested lists, a state dict that contains itself), huge and missing memo indices, globals off the
 * whitelist put where the tensor rebuilder or a value stands, a pickle that would run {@code os.system("touch
 * PWNED")} (the test asserts no PWNED file appears), a nested pickle in bytes, hostile tensor arguments (offsets,
 * sizes, strides, element counts and storage types that disagree with the storage), and other shapes of the top
 * object. Loaded as a single-file checkpoint: every component, when accepted, runs forward.
 */
final class PickleFormat implements FuzzFormat {
    /** Globals a hostile pickle names: code execution, file and network access, nested unpickling. */
    static final List<String> FORBIDDEN = List.of("os\nsystem", "posix\nsystem", "nt\nsystem", "builtins\neval",
            "builtins\nexec", "builtins\ngetattr", "builtins\n__import__", "__builtin__\neval", "subprocess\nPopen",
            "subprocess\ncheck_output", "runpy\n_run_code", "webbrowser\nopen", "pickle\nloads", "_pickle\nloads",
            "torch\nload", "torch.storage\n_load_from_bytes", "torch._utils\n_rebuild_device_tensor_from_numpy",
            "torch._utils\n_rebuild_qtensor", "torch.serialization\nload", "numpy\nload", "numpy.lib.npyio\nload",
            "collections\ndefaultdict", "functools\npartial", "operator\nattrgetter", "shutil\nrmtree", "io\nopen",
            "torch\nTensor", "torch.nn.parameter\nParameter", "torch\nFloatStorage", "_codecs\ndecode");
    private static final List<Long> INTS = List.of(-1L, 0L, 1L, 2L, 3L, 7L, 255L, 65536L, 1L << 31, 1L << 32,
            (1L << 62) + 5, Long.MAX_VALUE, Long.MIN_VALUE);

    private final MicroModel micro;

    PickleFormat(MicroModel micro) {
        this.micro = micro;
    }

    @Override
    public String name() {
        return "pickle";
    }

    @Override
    public int weight() {
        return 12;
    }

    @Override
    public FuzzCase make(SplittableRandom rnd, Path dir) throws IOException {
        LdmFamily family = Mutations.pick(rnd, List.of(LdmFamily.SD1, LdmFamily.SD1, LdmFamily.SD2, LdmFamily.SDXL));
        Map<String, Tensor> tensors = TorchFiles.tensors(micro.singleFiles.get(family));
        boolean legacy = rnd.nextInt(5) == 0;
        StringBuilder note = new StringBuilder(family.label()).append(legacy ? " legacy: " : " zip: ");
        byte[] pickle = pickle(tensors, legacy, rnd, note);
        byte[] bytes = legacy ? TorchZipWriter.legacy(pickle, tensors)
                : TorchZipWriter.zip("archive", pickle, TorchZipWriter.storages(tensors));
        Path file = Files.write(dir.resolve(rnd.nextBoolean() ? "model.ckpt" : "model.safetensors"), bytes);
        return new FuzzCase(note.toString(), List.of(file), () -> SingleFileFormat.load(file));
    }

    private static byte[] pickle(Map<String, Tensor> tensors, boolean legacy, SplittableRandom rnd, StringBuilder note) {
        byte[] valid = TorchZipWriter.pickle(tensors, true, legacy);
        return switch (rnd.nextInt(10)) {
            case 0 -> random(rnd, note);
            case 1 -> {
                byte[] b = valid;
                for (int i = 1 + rnd.nextInt(3); i > 0; i--) {
                    b = Mutations.byteEdit(rnd, b, 0, b.length, note);
                    note.append("; ");
                }
                yield b;
            }
            case 2 -> {
                int n = rnd.nextInt(valid.length);
                note.append("truncate the pickle to ").append(n).append(" bytes");
                yield Mutations.truncate(valid, n);
            }
            case 3 -> nesting(rnd, note);
            case 4 -> memo(rnd, note);
            case 5 -> new Builder(tensors, legacy).forbidden(rnd, note).bytes();
            case 6 -> payload(rnd, note);
            case 7, 8 -> new Builder(tensors, legacy).tensorArgument(rnd, note).bytes();
            default -> new Builder(tensors, legacy).shape(rnd, note).bytes();
        };
    }

    /** 1 to 200 opcodes drawn from pickletools' table, each with a plausible argument. */
    private static byte[] random(SplittableRandom rnd, StringBuilder note) {
        Ops p = new Ops();
        if (rnd.nextBoolean()) {
            p.op(0x80).op(rnd.nextInt(7));
        }
        int n = 1 + rnd.nextInt(200);
        String bare = "(.012NRabdelstu)]}\u0085\u0086\u0087\u0088\u0089\u008f\u0090\u0091\u0093\u0094Q";
        for (int i = 0; i < n; i++) {
            switch (rnd.nextInt(8)) {
                case 0, 1, 2 -> p.op(bare.charAt(rnd.nextInt(bare.length())));
                case 3 -> p.integer(Mutations.pick(rnd, INTS));
                case 4 -> p.text(Mutations.pick(rnd, List.of("state_dict", "storage", "cpu", "0", "model", "",
                        "model.diffusion_model.out.2.weight")));
                case 5 -> {
                    String[] g = Mutations.pick(rnd, List.of("collections\nOrderedDict", "torch._utils\n_rebuild_tensor_v2",
                            "torch\nFloatStorage", "torch\nSize", "_codecs\nencode", Mutations.pick(rnd, FORBIDDEN))).split("\n");
                    p.global(g[0], g[1]);
                }
                case 6 -> p.op(Mutations.pick(rnd, List.of((int) 'q', (int) 'h'))).op(rnd.nextInt(4));
                default -> {
                    byte[] junk = new byte[1 + rnd.nextInt(9)];
                    rnd.nextBytes(junk);
                    p.raw(junk);
                }
            }
        }
        if (rnd.nextBoolean()) {
            p.op('.');
        }
        note.append("random stream of ").append(n).append(" opcodes");
        return p.bytes();
    }

    /** Nesting past any state dict's: MARKs, lists in lists, tuples in tuples, a dict that is its own state_dict. */
    private static byte[] nesting(SplittableRandom rnd, StringBuilder note) {
        int depth = Mutations.pick(rnd, List.of(100, 10_001, 20_000, 1_000_000));
        Ops p = new Ops().op(0x80).op(2);
        switch (rnd.nextInt(4)) {
            case 0 -> {
                note.append(depth).append(" MARKs");
                p.raw(repeat('(', depth)).op('}').op('.');
            }
            case 1 -> {
                note.append(depth).append(" nested lists");
                p.raw(repeat(']', depth)).raw(repeat('a', depth - 1)).op('.');
            }
            case 2 -> {
                note.append(depth).append(" nested 1-tuples in a state_dict");
                p.op('}').op('(').text("state_dict").op(')').raw(repeat(0x85, depth)).op('u').op('.');
            }
            default -> {
                note.append("a dict whose state_dict is itself");
                p.op('}').op('q').op(0).op('(').text("state_dict").op('h').op(0).text("model").op('h').op(0).op('u').op('.');
            }
        }
        return p.bytes();
    }

    private static byte[] repeat(int b, int n) {
        byte[] out = new byte[n];
        java.util.Arrays.fill(out, (byte) b);
        return out;
    }

    /** Memo indices at the edges: 2^32-1, a 30-digit PUT, a GET that was never PUT, 4M+ MEMOIZEs. */
    private static byte[] memo(SplittableRandom rnd, StringBuilder note) {
        Ops p = new Ops().op(0x80).op(4).op('}');
        switch (rnd.nextInt(4)) {
            case 0 -> {
                note.append("LONG_BINPUT/LONG_BINGET 2^32-1");
                p.op('r').raw(new byte[] {-1, -1, -1, -1}).op('0').op('j').raw(new byte[] {-1, -1, -1, -1});
            }
            case 1 -> {
                note.append("PUT and GET of a 30-digit index");
                p.op('p').raw("123456789012345678901234567890\n".getBytes(StandardCharsets.US_ASCII))
                        .op('g').raw("123456789012345678901234567890\n".getBytes(StandardCharsets.US_ASCII));
            }
            case 2 -> {
                note.append("BINGET of an index never stored");
                p.op('h').op(rnd.nextInt(256));
            }
            default -> {
                note.append("4,194,305 MEMOIZEs");
                p.raw(repeat(0x94, (1 << 22) + 1));
            }
        }
        return p.op('.').bytes();
    }

    /** {@code os.system("touch PWNED")} as the value of a key, by GLOBAL or STACK_GLOBAL, or a pickle in bytes. */
    private static byte[] payload(SplittableRandom rnd, StringBuilder note) {
        Ops p = new Ops().op(0x80).op(rnd.nextBoolean() ? 2 : 4).op('}').op('(').text("state_dict").op('}').text("x");
        switch (rnd.nextInt(3)) {
            case 0 -> {
                note.append("os.system('touch PWNED') by GLOBAL");
                p.global("os", "system").text("touch PWNED").op(0x85).op('R');
            }
            case 1 -> {
                note.append("os.system('touch PWNED') by STACK_GLOBAL");
                p.text("os").text("system").op(0x93).text("touch PWNED").op(0x85).op('R');
            }
            default -> {
                note.append("a nested pickle of os.system in bytes, and pickle.loads");
                byte[] inner = new Ops().op(0x80).op(2).global("os", "system").text("touch PWNED").op(0x85).op('R').op('.').bytes();
                p.op('B').raw(le32(inner.length)).raw(inner);
                if (rnd.nextBoolean()) {
                    p.op('0').global("pickle", "loads").op('B').raw(le32(inner.length)).raw(inner).op(0x85).op('R');
                }
            }
        }
        return p.op('s').op('u').op('.').bytes();
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    /** The valid pickle written opcode by opcode, with one part of it replaced. */
    private static final class Builder {
        private final Map<String, Tensor> tensors;
        private final boolean legacy;
        private int target = -1;
        private String field;
        private Consumer<Ops> replacement;
        private Consumer<Ops> root;

        Builder(Map<String, Tensor> tensors, boolean legacy) {
            this.tensors = tensors;
            this.legacy = legacy;
        }

        /** A forbidden global where a tensor's rebuilder, its storage type or a value stands. */
        Builder forbidden(SplittableRandom rnd, StringBuilder note) {
            String[] g = Mutations.pick(rnd, FORBIDDEN).split("\n");
            target = rnd.nextInt(tensors.size());
            field = Mutations.pick(rnd, List.of("rebuild", "storage type", "hooks"));
            replacement = o -> o.global(g[0], g[1]);
            note.append("global ").append(g[0]).append('.').append(g[1]).append(" as the ").append(field)
                    .append(" of tensor ").append(target);
            return this;
        }

        /** A hostile value for one argument of one tensor's rebuilder or persistent id. */
        Builder tensorArgument(SplittableRandom rnd, StringBuilder note) {
            target = rnd.nextInt(tensors.size());
            Tensor t = tensors.values().stream().skip(target).findFirst().orElseThrow();
            field = Mutations.pick(rnd, List.of("offset", "size", "stride", "numel", "key", "storage type",
                    "requires_grad", "hooks", "name", "location", "pid"));
            long real = field.equals("numel") ? t.data().length / t.dtype().size() : t.shape().length;
            replacement = switch (rnd.nextInt(6)) {
                case 0 -> o -> o.integer(Mutations.pick(rnd, INTS));
                case 1 -> o -> o.integer(real + (rnd.nextBoolean() ? 1 : -1));
                case 2 -> o -> o.op(0x8a).op(9).raw(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 1});   // 2^64 + 1
                case 3 -> o -> o.ints(new long[] {Mutations.pick(rnd, INTS), Mutations.pick(rnd, INTS)});
                case 4 -> o -> o.global("torch", Mutations.pick(rnd, List.of("HalfStorage", "FloatStorage",
                        "BFloat16Storage", "DoubleStorage", "LongStorage", "BoolStorage", "QInt8Storage")));
                default -> o -> o.op(Mutations.pick(rnd, List.of((int) 'N', (int) ')', (int) ']', 0x88)));
            };
            note.append("tensor ").append(target).append(" (").append(t.dtype()).append(java.util.Arrays.toString(t.shape()))
                    .append("): hostile ").append(field);
            return this;
        }

        /** Another shape of the whole: no wrapper, a list, a tensor keyed by an int, duplicate keys, extras. */
        Builder shape(SplittableRandom rnd, StringBuilder note) {
            String how = Mutations.pick(rnd, List.of("list", "int keys", "extra values", "module wrapper", "no dict"));
            note.append("top object: ").append(how);
            root = switch (how) {
                case "list" -> o -> o.op(']');
                case "no dict" -> o -> o.text("just text");
                default -> null;
            };
            if (how.equals("int keys")) {
                target = rnd.nextInt(tensors.size());
                field = "int name";
                replacement = o -> o.integer(target);
            } else if (how.equals("extra values")) {
                target = rnd.nextInt(tensors.size());
                field = "extra";
                replacement = o -> o.text("extra." + target).op(0x8c).op(3).raw("abc".getBytes(StandardCharsets.US_ASCII))
                        .text("extra.n").global("numpy.core.multiarray", "scalar").global("numpy", "dtype").text("f8")
                        .op(0x89).op(0x88).op(0x87).op('R').op('(').integer(3).text("<").op('N').op('t').op('b')
                        .global("_codecs", "encode").text("\u0000\u0000\u0000\u0000\u0000\u0000\u00e0?").text("latin1")
                        .op(0x86).op('R').op(0x86).op('R');
            } else if (how.equals("module wrapper")) {
                field = "module";
            }
            return this;
        }

        byte[] bytes() {
            Ops p = new Ops().op(0x80).op(2);
            if (root != null) {
                root.accept(p);
                return p.op('.').bytes();
            }
            p.op('}').op('(').text("module".equals(field) ? "module" : "state_dict");
            p.global("collections", "OrderedDict").op(')').op('R').op('(');
            int i = 0;
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                tensor(p, i++, e.getKey(), e.getValue());
            }
            p.op('u');
            return p.text("epoch").integer(6).op('u').op('.').bytes();
        }

        private void part(Ops p, int i, String name, Consumer<Ops> normal) {
            if (i == target && name.equals(field)) {
                replacement.accept(p);
            } else {
                normal.accept(p);
            }
        }

        private void tensor(Ops p, int i, String key, Tensor t) {
            if (i == target && "extra".equals(field)) {
                replacement.accept(p);
            }
            part(p, i, "int name", o -> part(o, i, "name", n -> n.text(key)));
            part(p, i, "rebuild", o -> o.global("torch._utils", "_rebuild_tensor_v2"));
            p.op('(');
            part(p, i, "pid", o -> {
                o.op('(').text("storage");
                part(o, i, "storage type", s -> s.global("torch", storage(t)));
                part(o, i, "key", s -> s.text(Integer.toString(i)));
                part(o, i, "location", s -> s.text("cpu"));
                part(o, i, "numel", s -> s.integer(t.data().length / t.dtype().size()));
                if (legacy) {
                    o.op('N');
                }
                o.op('t');
            });
            p.op('Q');
            part(p, i, "offset", o -> o.integer(0));
            part(p, i, "size", o -> o.ints(t.shape()));
            part(p, i, "stride", o -> o.ints(strides(t.shape())));
            part(p, i, "requires_grad", o -> o.op(0x89));
            part(p, i, "hooks", o -> o.global("collections", "OrderedDict").op(')').op('R'));
            p.op('t').op('R');
        }

        private static String storage(Tensor t) {
            return switch (t.dtype()) {
                case F16 -> "HalfStorage";
                case BF16 -> "BFloat16Storage";
                case F64 -> "DoubleStorage";
                case I64 -> "LongStorage";
                case I32 -> "IntStorage";
                case U8 -> "ByteStorage";
                default -> "FloatStorage";
            };
        }

        private static long[] strides(long[] shape) {
            long[] s = new long[shape.length];
            long step = 1;
            for (int i = shape.length - 1; i >= 0; i--) {
                s[i] = step;
                step *= shape[i];
            }
            return s;
        }
    }
}
