package dev.unetlens.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An independent reader in Python (standard library; numpy when present): re-implements the reference's header
 * checks, says whether the header is byte for byte what the reference serializer would write for the same content,
 * loads every tensor with {@code numpy.frombuffer}, and reports each tensor's dtype, shape and SHA-256.
 */
final class SafetensorsPython {
    private SafetensorsPython() {
    }

    /** The script's verdict on one file. */
    record Verdict(String file, boolean ok, String error, boolean canonical, boolean numpy, JsonNode tensors) {
    }

    /** Checks {@code files}; empty, with the reason printed, when the interpreter does not run. */
    static Optional<List<Verdict>> check(Python python, Path workDir, List<Path> files) throws Exception {
        Python.Result r = python.run(workDir, SCRIPT, files.stream().map(Path::toString).toList());
        if (!r.ran()) {
            System.out.println("python cross-check skipped (" + r.whyNot() + "); Java checks only");
            return Optional.empty();
        }
        if (r.exit() != 0) {
            throw new AssertionError("checker failed: " + r.stderr());
        }
        ObjectMapper json = new ObjectMapper();
        List<Verdict> out = new ArrayList<>();
        for (String line : r.stdout().strip().split("\n")) {
            JsonNode n = json.readTree(line);
            out.add(new Verdict(n.get("file").asText(), n.get("ok").asBoolean(),
                    n.path("error").asText(null), n.path("canonical").asBoolean(),
                    n.get("numpy").isTextual(), n.get("tensors")));
        }
        if (!out.isEmpty() && !out.getFirst().numpy()) {
            System.out.println("python cross-check ran without numpy: header checks only, no numpy.frombuffer");
        }
        return Optional.of(out);
    }

    /** Name to {@code [dtype, shape, sha256]} as the script reports it. */
    static Map<String, JsonNode> tensors(Verdict v) {
        Map<String, JsonNode> m = new LinkedHashMap<>();
        v.tensors().properties().forEach(e -> m.put(e.getKey(), e.getValue()));
        return m;
    }

    static final String SCRIPT = """
            import hashlib, json, struct, sys

            SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
                     "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}
            # the reference's Dtype enum order, which its serializer sorts by (descending)
            RANK = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
                    "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
            NUMPY = {"BOOL": "?", "U8": "u1", "I8": "i1", "F8_E5M2": "u1", "F8_E4M3": "u1", "I16": "<i2",
                     "U16": "<u2", "F16": "<f2", "BF16": "<u2", "I32": "<i4", "U32": "<u4", "F32": "<f4",
                     "F64": "<f8", "I64": "<i8", "U64": "<u8"}
            try:
                import numpy
            except ImportError:
                numpy = None

            class Bad(Exception):
                pass

            def unique(pairs):
                keys = [k for k, _ in pairs]
                if len(keys) != len(set(keys)):
                    raise Bad("duplicate key")
                return dict(pairs)

            def no_constant(name):
                raise Bad("non-JSON constant " + name)

            def uint(x):
                return type(x) is int and x >= 0

            def check(path):
                with open(path, "rb") as f:
                    b = f.read()
                if len(b) < 8:
                    raise Bad("shorter than 8 bytes")
                (n,) = struct.unpack("<Q", b[:8])
                if n > 100_000_000:
                    raise Bad("header too large")
                if 8 + n > len(b):
                    raise Bad("header runs past the end")
                raw = b[8:8 + n]
                header = json.loads(raw.decode("utf-8"), object_pairs_hook=unique, parse_constant=no_constant)
                if type(header) is not dict:
                    raise Bad("header is not an object")
                meta = header.pop("__metadata__", None)
                if meta is not None:
                    if type(meta) is not dict or not all(type(v) is str for v in meta.values()):
                        raise Bad("__metadata__ is not a string map")
                    for k, v in meta.items():
                        k.encode("utf-8"), v.encode("utf-8")
                tensors = []
                for name, e in header.items():
                    if "\\0" in name:
                        raise Bad("NUL in a name")
                    name.encode("utf-8")
                    if type(e) is not dict:
                        raise Bad("entry is not an object")
                    dtype, shape, off = e.get("dtype"), e.get("shape"), e.get("data_offsets")
                    if dtype not in SIZES:
                        raise Bad("dtype")
                    if type(shape) is not list or not all(uint(d) for d in shape):
                        raise Bad("shape")
                    if type(off) is not list or len(off) != 2 or not all(uint(o) for o in off) or off[1] < off[0]:
                        raise Bad("data_offsets")
                    count = 1
                    for d in shape:
                        count *= d
                    if count * SIZES[dtype] * 8 >= 2 ** 64:
                        raise Bad("overflow")
                    if count * SIZES[dtype] != off[1] - off[0]:
                        raise Bad("size mismatch")
                    tensors.append((name, dtype, shape, off, count))
                end = 0
                for t in sorted(tensors, key=lambda t: tuple(t[3])):
                    if t[3][0] != end:
                        raise Bad("not contiguous")
                    end = t[3][1]
                if 8 + n + end != len(b):
                    raise Bad("data section not covered exactly")
                # what the reference serializer writes for this content
                order = sorted(tensors, key=lambda t: (-RANK.index(t[1]), t[0].encode("utf-8")))
                canon, at, layout = {}, 0, True
                if meta is not None:
                    canon["__metadata__"] = meta
                for name, dtype, shape, off, count in order:
                    canon[name] = {"dtype": dtype, "shape": shape, "data_offsets": off}
                    layout = layout and off == [at, at + count * SIZES[dtype]]
                    at = off[1]
                expected = json.dumps(canon, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
                expected += b" " * (-len(expected) % 8)
                out = {}
                for name, dtype, shape, off, count in tensors:
                    start = 8 + n + off[0]
                    data = b[start:8 + n + off[1]]
                    if numpy is not None:
                        arr = numpy.frombuffer(b, dtype=NUMPY[dtype], count=count, offset=start) if count else \\
                            numpy.zeros(0, dtype=NUMPY[dtype])
                        arr = arr.reshape(shape)
                        if arr.tobytes() != data or list(arr.shape) != shape:
                            raise Bad("numpy reads " + name + " differently")
                    out[name] = [dtype, shape, hashlib.sha256(data).hexdigest()]
                return {"ok": True, "canonical": raw == expected and layout, "tensors": out}

            for path in sys.argv[1:]:
                try:
                    result = check(path)
                except (Bad, ValueError, UnicodeError) as e:
                    result = {"ok": False, "error": type(e).__name__ + ": " + str(e)}
                result["file"] = path
                result["numpy"] = numpy.__version__ if numpy is not None else None
                print(json.dumps(result))
            """;
}
