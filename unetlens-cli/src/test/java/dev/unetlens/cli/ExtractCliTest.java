package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.TestImages;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code unetlens extract} writes self-describing dumps: every file and tensor the manifest lists exists with the
 * listed shape and dtype, read by numpy (python3 with numpy, when the machine has it) and by our own readers.
 */
class ExtractCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private String model() {
        return Golden.get().path("models/" + Golden.get().models().getFirst()).toString();   // any model will do
    }

    @ParameterizedTest(name = "generation, {0} {1}")
    @CsvSource({"npy,f32", "npz,f16", "safetensors,f32"})
    void generationDumps(String format, String dtype) throws Exception {
        Path out = tmp.resolve("gen-" + format);
        int code = Main.run("extract", "--model", model(), "--prompt", "a cat", "--steps", "3", "--seed", "5",
                "--height", "64", "--width", "64", "--at", "IN04-IN05, mid_block, OUT11", "--at-steps", "1,3",
                "--cfg-branch", "both", "--format", format, "--dtype", dtype, "--out", out.toString());
        assertThat(code).isZero();
        JsonNode m = JSON.readTree(out.resolve("manifest.json").toFile());
        List<JsonNode> tensors = check(out, m, dtype);
        // 4 modules × steps 1 and 3 × both branches
        assertThat(tensors).hasSize(16);
        assertThat(tensors).extracting(t -> t.get("step").asInt()).containsOnly(1, 3);
        assertThat(tensors).extracting(t -> t.get("cfg_branch").asText()).containsOnly("conditional", "unconditional");
        assertThat(tensors).extracting(t -> t.path("block").asText()).contains("IN04", "IN05", "M00", "OUT11");
    }

    @Test
    void imageDumps() throws Exception {
        Path img = tmp.resolve("input.png");
        dev.unetlens.io.AtomicFiles.write(img, o -> TestImages.gradient(128, 128).writePng(o, Map.of()));
        Path out = tmp.resolve("img");
        int code = Main.run("extract", "--model", model(), "--images", img.toString(), img.toString(),
                "--at", "up_blocks[1], down_blocks.0.attentions.0.transformer_blocks.0.attn2:probs",
                "--timestep", "50", "--samples", "5", "--batch-size", "2", "--seed", "9", "--out", out.toString());
        assertThat(code).isZero();
        JsonNode m = JSON.readTree(out.resolve("manifest.json").toFile());
        List<JsonNode> tensors = check(out, m, "f32");
        assertThat(tensors).hasSize(4);                    // 2 images (named input, input-2) × 2 points
        assertThat(tensors).allSatisfy(t -> assertThat(t.get("shape").get(0).asInt()).isEqualTo(5));
        assertThat(out.resolve("input/up_blocks.1.npy")).exists();
        assertThat(out.resolve("input-2/down_blocks.0.attentions.0.transformer_blocks.0.attn2-probs.npy")).exists();
        // the same image twice, same seeds: the same features
        assertThat(Files.readAllBytes(out.resolve("input/up_blocks.1.npy")))
                .isEqualTo(Files.readAllBytes(out.resolve("input-2/up_blocks.1.npy")));
    }

    /** Every manifest file exists; every tensor has its listed shape, read by our readers and by numpy. */
    private static List<JsonNode> check(Path out, JsonNode m, String dtype) throws Exception {
        List<JsonNode> all = new ArrayList<>();
        for (JsonNode f : m.get("files")) {
            Path file = out.resolve(f.get("file").asText());
            assertThat(file).exists();
            assertThat(f.get("dtype").asText()).isEqualTo(dtype.equals("f16") ? "float16" : "float32");
            for (JsonNode t : f.get("tensors")) {
                all.add(t);
                long[] shape = JSON.convertValue(t.get("shape"), long[].class);
                String name = file.getFileName().toString();
                if (name.endsWith(".npy")) {
                    assertThat(Npy.read(file).shape()).containsExactly(shape);
                } else if (name.endsWith(".npz")) {
                    Map<String, NpyArray> z = Npy.readNpz(file);
                    assertThat(z.get(t.get("entry").asText()).shape()).containsExactly(shape);
                } else {
                    try (SafetensorsFile s = SafetensorsFile.open(file)) {
                        assertThat(s.info(t.get("entry").asText()).orElseThrow().shape()).containsExactly(shape);
                    }
                }
            }
        }
        numpyAgrees(out, m);
        return all;
    }

    /** python3 + numpy, when present, loads every npy/npz file with the manifest's shapes and dtypes. */
    private static void numpyAgrees(Path out, JsonNode m) throws Exception {
        String script = String.join("\n",
                "import json, sys",
                "try:",
                "    import numpy as np",
                "except ImportError:",
                "    print('no numpy'); sys.exit(0)",
                "d = sys.argv[1]; m = json.load(open(d + '/manifest.json'))",
                "for f in m['files']:",
                "    p = d + '/' + f['file']; dt = {'float32': np.float32, 'float16': np.float16}[f['dtype']]",
                "    if p.endswith('.npy'):",
                "        a = np.load(p); t = f['tensors'][0]",
                "        assert list(a.shape) == t['shape'] and a.dtype == dt, (p, a.shape, a.dtype)",
                "    elif p.endswith('.npz'):",
                "        z = np.load(p)",
                "        for t in f['tensors']:",
                "            a = z[t['entry']]; assert list(a.shape) == t['shape'] and a.dtype == dt, (t, a.shape)",
                "print('numpy ok')");
        Process p;
        try {
            p = new ProcessBuilder("python3", "-c", script, out.toString()).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            System.out.println("python3 not available; dumps checked with the Java readers only");
            return;
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String said = new String(p.getInputStream().readAllBytes());
        assertThat(p.exitValue()).as(said).isZero();
        System.out.println("numpy check: " + said.strip());
    }

    @Test
    void badSelectionsFailInOneLine() {
        Path out = tmp.resolve("bad");
        CliRun r = CliRun.of("extract", "--model", model(), "--prompt", "x", "--at", "IN13",
                "--out", out.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("unknown block 'IN13'");
        assertThat(out).doesNotExist();
        r = CliRun.of("extract", "--model", model(), "--prompt", "x", "--scheduler", "ddim", "--steps", "3", "--at", "M00",
                "--at-steps", "5", "--out", out.toString());
        assertThat(r.err()).contains("outside 1–3");
        assertThat(out).doesNotExist();
        r = CliRun.of("extract", "--model", model(), "--at", "M00", "--out", out.toString());
        assertThat(r.err()).contains("give --prompt").contains("--images");
    }
}
