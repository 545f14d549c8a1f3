package dev.unetlens.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** {@code .npy} / {@code .npz}: round trips for every numpy dtype, numpy's exact header layout, malformed files. */
class NpyTest {
    private static final long[][] SHAPES = {{}, {5}, {2, 3}, {0, 3}, {1, 1, 4}, {12345, 0}};

    @TempDir
    Path dir;

    private static NpyArray random(DType dtype, long[] shape, Random r) {
        byte[] data = new byte[(int) (NpyArray.elementCount(shape) * dtype.size())];
        r.nextBytes(data);
        if (dtype == DType.BOOL) {
            for (int i = 0; i < data.length; i++) {
                data[i] &= 1;
            }
        }
        return NpyArray.ofBytes(dtype, shape, data);
    }

    private static List<DType> numpyTypes() {
        return Arrays.stream(DType.values()).filter(t -> t.numpyDescr().isPresent()).toList();
    }

    private static String headerText(byte[] npy) {
        int len = (npy[8] & 0xff) | (npy[9] & 0xff) << 8;
        return new String(npy, 10, len, StandardCharsets.ISO_8859_1);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F8_E5M2", "F8_E4M3"}, mode = EnumSource.Mode.EXCLUDE)
    void everyNumpyDtypeRoundTripsInEveryShape(DType dtype) {
        Random r = new Random(dtype.ordinal());
        for (long[] shape : SHAPES) {
            NpyArray a = random(dtype, shape, r);
            byte[] npy = Npy.toBytes(a);
            assertThat((npy.length - a.data().remaining()) % 64).as("data starts on a 64-byte boundary").isZero();
            NpyArray back = Npy.parse(ByteBuffer.wrap(npy), "mem");
            assertThat(back).isEqualTo(a);
            assertThat(back.shape()).isEqualTo(shape);
        }
        Path f = dir.resolve(dtype + ".npy");   // the file path once: Npy.write forces every file to disk
        NpyArray a = random(dtype, SHAPES[2], r);
        Npy.write(f, a);
        assertThat(Npy.read(f)).isEqualTo(a);
    }

    @Test
    void shapeTuplesAreFormattedAsPythonReprs() {
        assertThat(headerText(Npy.toBytes(NpyArray.ofFloats(new long[] {}, new float[] {1}))))
                .startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (), }  ").endsWith("\n");
        assertThat(headerText(Npy.toBytes(NpyArray.ofFloats(new long[] {3}, new float[3]))))
                .startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" + " ".repeat(20));
        assertThat(headerText(Npy.toBytes(NpyArray.ofLongs(new long[] {2, 1}, new long[2]))))
                .startsWith("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 1), }");
    }

    @Test
    void scalarsAndConversions() {
        NpyArray s = Npy.parse(ByteBuffer.wrap(Npy.toBytes(NpyArray.ofFloats(new long[0], new float[] {2.5f}))), "s");
        assertThat(s.shape()).isEmpty();
        assertThat(s.size()).isOne();
        assertThat(s.toFloats()).containsExactly(2.5f);
        NpyArray u64 = NpyArray.ofBytes(DType.U64, new long[] {1}, Raw.le64(-1));
        assertThat(u64.toDoubles()).containsExactly(1.8446744073709552E19);
        assertThat(u64.toFloats()).containsExactly(1.8446744E19f);
        NpyArray f16 = NpyArray.ofBytes(DType.F16, new long[] {2}, new byte[] {0x00, 0x3c, 0x00, (byte) 0xc0});
        assertThat(f16.toFloats()).containsExactly(1f, -2f);
    }

    @Test
    void dataViewsAreIndependent() {
        NpyArray a = NpyArray.ofFloats(new long[] {2}, new float[] {1, 2});
        a.data().getFloat();   // moving one view must not move the next
        assertThat(a.data().position()).isZero();
        assertThat(a.toFloats()).containsExactly(1, 2);
    }

    @Test
    void npzRoundTripIsStoredUncompressedLikeNumpySavez() throws IOException {
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        Random r = new Random(3);
        arrays.put("latents", random(DType.F32, new long[] {1, 4, 8, 8}, r));
        arrays.put("timesteps", random(DType.I64, new long[] {10}, r));
        arrays.put("mask", random(DType.BOOL, new long[] {}, r));
        Path f = dir.resolve("run.npz");
        Npy.writeNpz(f, arrays);
        Map<String, NpyArray> back = Npy.readNpz(f);
        assertThat(back.keySet()).containsExactly("latents", "timesteps", "mask");
        arrays.forEach((k, v) -> assertThat(back.get(k)).isEqualTo(v));
        try (ZipFile zip = new ZipFile(f.toFile())) {
            assertThat(zip.stream().map(ZipEntry::getMethod)).containsOnly(ZipEntry.STORED);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"=f4", "<b1", "=u1", "|i1", "<f2"})
    void equivalentDescrSpellingsAreRead(String descr) {
        assertThat(DType.fromNumpy(descr)).isPresent();
    }

    @ParameterizedTest
    @ValueSource(strings = {"|S1", "<U4", ">f4", "|O", "<c8", "<f4 ", "f4", "<F4", "<M8", "|V8"})
    void unsupportedDescrsAreRefusedCleanly(String descr) {
        // "|S1" used to recurse forever and "<U4" (unicode) used to read as uint32
        byte[] npy = npyWithHeader("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (1,), }", 16);
        assertThat(catchThrowable(() -> Npy.parse(ByteBuffer.wrap(npy), "x.npy")))
                .isExactlyInstanceOf(Npy.NpyException.class).hasMessageContaining("unsupported .npy dtype");
    }

    @ParameterizedTest
    @ValueSource(strings = {"(2, -1)", "(2L,)", "(4294967296, 4294967296)", "(x,)"})
    void badShapesAreRefusedCleanly(String shape) {
        byte[] npy = npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", 64);
        assertThat(catchThrowable(() -> Npy.parse(ByteBuffer.wrap(npy), "x.npy")))
                .isExactlyInstanceOf(Npy.NpyException.class).hasMessageStartingWith("x.npy: ");
    }

    @Test
    void malformedFilesAreRefusedWithOneLine() {
        byte[] good = Npy.toBytes(NpyArray.ofFloats(new long[] {4}, new float[4]));
        byte[] badMagic = good.clone();
        badMagic[1] = 'X';
        byte[] version4 = good.clone();
        version4[6] = 4;
        byte[] fortran = npyWithHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16);
        for (byte[] bad : List.of(new byte[0], badMagic, version4, Arrays.copyOf(good, 60),
                Arrays.copyOf(good, good.length - 1), fortran,
                npyWithHeader("{'descr': '<f4'}", 0))) {
            Throwable t = catchThrowable(() -> Npy.parse(ByteBuffer.wrap(bad), "bad.npy"));
            assertThat(t).isExactlyInstanceOf(Npy.NpyException.class);
            assertThat(t.getMessage()).startsWith("bad.npy: ").doesNotContain("\n");
        }
    }

    private static byte[] npyWithHeader(String dict, int dataBytes) {
        String header = dict + " ".repeat(64 - (10 + dict.length() + 1) % 64) + "\n";
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        return Raw.concat(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) h.length, (byte) (h.length >> 8)},
                h, new byte[dataBytes]);
    }

    // ---- numpy itself ---------------------------------------------------------------------------------------

    /**
     * numpy loads what we write (and would have written the same bytes), and we load what numpy writes: every
     * dtype and shape, format versions 1.0, 2.0 and 3.0, {@code savez} and {@code savez_compressed}.
     */
    @Test
    void numpyCrossCheck() throws Exception {
        Python python = Python.fromSystem();
        String why = python.whyNot("numpy");
        Map<String, NpyArray> ours = new LinkedHashMap<>();
        Random r = new Random(11);
        for (DType t : numpyTypes()) {
            for (int i = 0; i < SHAPES.length; i++) {
                ours.put(t + "_" + i, random(t, SHAPES[i], r));
            }
        }
        Path javaDir = Files.createDirectory(dir.resolve("java"));
        for (Map.Entry<String, NpyArray> e : ours.entrySet()) {
            Files.write(javaDir.resolve(e.getKey() + ".npy"), Npy.toBytes(e.getValue()));
        }
        Npy.writeNpz(javaDir.resolve("all.npz"), ours);
        ours.forEach((name, a) -> assertThat(Npy.read(javaDir.resolve(name + ".npy"))).isEqualTo(a));
        if (why != null) {
            System.out.println("numpy cross-check skipped (" + why + "); Java round trips only");
            return;
        }
        Path numpyDir = Files.createDirectory(dir.resolve("numpy"));
        Python.Result res = python.run(dir, NUMPY_SCRIPT, List.of(javaDir.toString(), numpyDir.toString()));
        assertThat(res.exit()).as(res.stderr()).isZero();
        JsonNode report = new ObjectMapper().readTree(res.stdout());

        // numpy read our files: same dtype, shape, bytes; and np.save writes byte-identical files
        JsonNode loaded = report.get("loaded");
        for (Map.Entry<String, NpyArray> e : ours.entrySet()) {
            JsonNode n = loaded.get(e.getKey());
            assertThat(n.get("descr").asText()).isEqualTo(e.getValue().dtype().numpyDescr().orElseThrow());
            assertThat(n.get("shape").toString()).isEqualTo(shapeJson(e.getValue().shape()));
            assertThat(n.get("sha256").asText()).isEqualTo(sha256(e.getValue()));
            assertThat(n.get("same_as_np_save").asBoolean()).as(e.getKey()).isTrue();
            assertThat(loaded.get("all.npz/" + e.getKey()).get("sha256").asText()).isEqualTo(sha256(e.getValue()));
        }

        // we read numpy's files
        List<String> checked = new ArrayList<>();
        report.get("written").properties().forEach(e -> {
            JsonNode n = e.getValue();
            String file = e.getKey();
            List<NpyArray> arrays = file.endsWith(".npz")
                    ? List.copyOf(Npy.readNpz(numpyDir.resolve(file)).values())
                    : List.of(Npy.read(numpyDir.resolve(file)));
            for (int i = 0; i < arrays.size(); i++) {
                JsonNode expected = n.get(i);
                NpyArray a = arrays.get(i);
                assertThat(a.dtype().numpyDescr().orElseThrow()).as(file).isEqualTo(expected.get("descr").asText());
                assertThat(shapeJson(a.shape())).as(file).isEqualTo(expected.get("shape").toString());
                assertThat(sha256(a)).as(file).isEqualTo(expected.get("sha256").asText());
            }
            checked.add(file);
        });
        assertThat(checked).contains("v2.npy", "v3.npy", "savez.npz", "compressed.npz");
        System.out.println("numpy " + report.get("numpy").asText() + " cross-check: loaded " + loaded.size()
                + " of our arrays, we read " + checked.size() + " of its files");
    }

    private static String shapeJson(long[] shape) {
        return Arrays.toString(shape).replace(" ", "");
    }

    static String sha256(NpyArray a) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes(a)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] bytes(NpyArray a) {
        ByteBuffer d = a.data();
        byte[] b = new byte[d.remaining()];
        d.get(b);
        return b;
    }

    private static final String NUMPY_SCRIPT = """
            import hashlib, io, json, os, sys, warnings, zipfile
            import numpy as np
            from numpy.lib import format as fmt

            ours, out = sys.argv[1], sys.argv[2]

            def info(a):
                return {"descr": fmt.dtype_to_descr(a.dtype), "shape": list(a.shape),
                        "sha256": hashlib.sha256(a.tobytes()).hexdigest()}

            loaded = {}
            for name in sorted(os.listdir(ours)):
                path = os.path.join(ours, name)
                if name.endswith(".npy"):
                    a = np.load(path, allow_pickle=False)
                    buf = io.BytesIO()
                    np.save(buf, a)
                    with open(path, "rb") as f:
                        same = f.read() == buf.getvalue()
                    loaded[name[:-4]] = dict(info(a), same_as_np_save=same)
                else:
                    with np.load(path, allow_pickle=False) as z:
                        for k in z.files:
                            loaded[name + "/" + k] = info(z[k])

            rng = np.random.default_rng(5)
            arrays = []
            for dt in ["?", "u1", "i1", "<i2", "<u2", "<f2", "<i4", "<u4", "<f4", "<f8", "<i8", "<u8"]:
                for shape in [(), (7,), (2, 3, 4), (0, 2)]:
                    if dt == "?":
                        arrays.append(rng.integers(0, 2, shape).astype("?"))
                    else:
                        raw = rng.integers(0, 256, int(np.prod(shape)) * np.dtype(dt).itemsize, dtype=np.uint8)
                        arrays.append(raw.view(dt).reshape(shape))
            written = {}
            for i, a in enumerate(arrays):
                np.save(os.path.join(out, "a%d.npy" % i), a)
                written["a%d.npy" % i] = [info(a)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for v in [(2, 0), (3, 0)]:
                    with open(os.path.join(out, "v%d.npy" % v[0]), "wb") as f:
                        fmt.write_array(f, arrays[20], version=v)
                    written["v%d.npy" % v[0]] = [info(arrays[20])]
            np.savez(os.path.join(out, "savez.npz"), *arrays[:10])
            written["savez.npz"] = [info(a) for a in arrays[:10]]
            np.savez_compressed(os.path.join(out, "compressed.npz"), *arrays[10:20])
            written["compressed.npz"] = [info(a) for a in arrays[10:20]]
            print(json.dumps({"numpy": np.__version__, "loaded": loaded, "written": written}))
            """;
}
