package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.TestImages;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.SafetensorsFile;
import ai.djl.ndarray.NDManager;
import dev.unetlens.extract.TextEncoding;
import dev.unetlens.hook.Component;
import dev.unetlens.pipeline.PromptEncoder;
import dev.unetlens.pipeline.StableDiffusion;
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
        assertThat(m.get("files")).extracting(f -> f.get("file").asText()).contains("image.png");
        assertThat(dev.unetlens.io.RgbImage.read(out.resolve("image.png")).width()).isEqualTo(64);
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

    /**
     * Text-encoder and VAE points during a generation: computed once outside the steps, the prompt's and (with CFG)
     * the negative prompt's states apart, each exactly what {@code tokens} captures for that text, the VAE's decoding
     * of the final latents; a U-Net point in the same run keeps its steps.
     */
    @Test
    void componentPointsDuringAGeneration() throws Exception {
        Path out = tmp.resolve("components");
        CliRun r = CliRun.of("extract", "--model", model(), "--prompt", "a cat", "--negative-prompt", "blurry", "--steps",
                "2", "--height", "64", "--width", "64", "--at", "text_encoder:text_model.encoder.layers[0], IN05,"
                        + " vae:decoder.up_blocks.0", "--cfg-branch", "both", "--format", "npz", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode m = JSON.readTree(out.resolve("manifest.json").toFile());
        List<JsonNode> tensors = check(out, m, "f32");
        assertThat(m.get("points")).extracting(JsonNode::asText).containsExactly(
                "text_encoder:text_model.encoder.layers.0", "down_blocks.1.attentions.1", "vae:decoder.up_blocks.0");
        assertThat(tensors).extracting(t -> t.get("entry").asText()).containsExactlyInAnyOrder(
                "text_encoder-text_model.encoder.layers.0", "text_encoder-text_model.encoder.layers.0-uncond",
                "down_blocks.1.attentions.1/step-001", "down_blocks.1.attentions.1/step-001-uncond",
                "down_blocks.1.attentions.1/step-002", "down_blocks.1.attentions.1/step-002-uncond",
                "vae-decoder.up_blocks.0");
        Map<String, NpyArray> z = Npy.readNpz(out.resolve("features.npz"));
        try (StableDiffusion sd = StableDiffusion.load(Path.of(model()), StableDiffusion.Options.DEFAULT);
             NDManager nd = sd.manager().newSubManager()) {
            PromptEncoder.TextStack stack = sd.prompts().stacks().getFirst();
            for (String[] text : new String[][] {{"a cat", ""}, {"blurry", "-uncond"}}) {
                TextEncoding e = TextEncoding.of(Component.TEXT_ENCODER, stack, text[0], nd);
                assertThat(z.get("text_encoder-text_model.encoder.layers.0" + text[1]).toFloats())
                        .containsExactly(e.layers().getFirst());
            }
        }
        JsonNode text = tensors.stream().filter(t -> t.get("entry").asText().endsWith("layers.0-uncond")).findFirst().orElseThrow();
        assertThat(text.get("texts")).extracting(JsonNode::asText).containsExactly("blurry");
        assertThat(text.get("component").asText()).isEqualTo("text_encoder");
        assertThat(text.has("step")).isFalse();
        JsonNode vae = tensors.stream().filter(t -> t.get("entry").asText().startsWith("vae-")).findFirst().orElseThrow();
        assertThat(vae.get("cfg_branch").asText()).isEqualTo("conditional");
        assertThat(vae.get("shape").get(2).asInt()).isEqualTo(64 / 8 * 2);        // the latent's level doubled once
    }

    /** --component vae with --images: every stage of the walk, the encoder's of the image, the decoder's of its latent. */
    @Test
    void componentStagesOfImages() throws Exception {
        Path img = tmp.resolve("input.png");
        dev.unetlens.io.AtomicFiles.write(img, o -> TestImages.gradient(64, 48).writePng(o, Map.of()));
        Path out = tmp.resolve("vae");
        CliRun r = CliRun.of("extract", "--model", model(), "--images", img.toString(), "--component", "vae",
                "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> tensors = check(out, JSON.readTree(out.resolve("manifest.json").toFile()), "f32");
        try (StableDiffusion sd = StableDiffusion.load(Path.of(model()), StableDiffusion.Options.DEFAULT)) {
            List<String> stages = new ArrayList<>(sd.vae().encoderStages());
            stages.addAll(sd.vae().decoderStages());
            assertThat(tensors).extracting(t -> t.get("module").asText())
                    .containsExactlyInAnyOrderElementsOf(stages.stream().map(st -> "vae:" + st).toList());
            Map<String, long[]> shapes = new java.util.HashMap<>();
            sd.vae().shapes(1, 48, 64).forEach(s -> shapes.put("vae:" + s.name(), s.shape().getShape()));
            assertThat(tensors).allSatisfy(t -> assertThat(JSON.convertValue(t.get("shape"), long[].class))
                    .containsExactly(shapes.get(t.get("module").asText())));
        }
    }

    /** Every manifest file exists; every tensor has its listed shape, read by our readers and by numpy. */
    private static List<JsonNode> check(Path out, JsonNode m, String dtype) throws Exception {
        List<JsonNode> all = new ArrayList<>();
        for (JsonNode f : m.get("files")) {
            Path file = out.resolve(f.get("file").asText());
            assertThat(file).exists();
            if (!f.has("tensors")) {                       // a generation's image.png: the picture the maps are of
                assertThat(file.getFileName().toString()).matches("image(-\\d{3})?\\.png");
                continue;
            }
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
                "    if 'tensors' not in f: continue",
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
        r = CliRun.of("extract", "--model", model(), "--prompt", "x", "--at", "vae:decoder.up_blocks.9", "--out", out.toString());
        assertThat(r.errorLines()).singleElement().asString().contains("unknown module 'vae:decoder.up_blocks.9'")
                .contains("'unetlens inspect --component vae'");
        r = CliRun.of("extract", "--model", model(), "--prompt", "x", "--component", "vea", "--out", out.toString());
        assertThat(r.errorLines()).singleElement().asString().contains("unknown component 'vea'");
        r = CliRun.of("extract", "--model", model(), "--prompt", "x", "--out", out.toString());
        assertThat(r.err()).contains("name the modules to extract with --at");
        assertThat(out).doesNotExist();
    }
}
