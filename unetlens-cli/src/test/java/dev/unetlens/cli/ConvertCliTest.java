package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;
import dev.unetlens.io.WeightFiles;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.tokenizer.ClipTokenizer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code unetlens convert} on the golden checkpoints: the {@code .ckpt} files become byte for byte the safetensors
 * files diffusers' conversion script wrote (README §15, §18); float32 → float16 gives the golden fp16 file; a
 * diffusers folder becomes that single file and back, the fp16 and bf16 variant files, and the SD 2.x and SDXL
 * folders survive folder → single file → folder bit for bit; manifests record what was read and written with its
 * SHA-256.
 */
class ConvertCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static Path golden(String relative) {
        return Golden.get().path(relative);
    }

    private static CliRun ok(String... args) {
        CliRun r = CliRun.of(args);
        assertThat(r.code()).as(r.err()).isZero();
        return r;
    }

    private static JsonNode manifest(Path dir) throws IOException {
        return JSON.readTree(dir.resolve(OutputDirectory.MANIFEST).toFile());
    }

    @TestFactory
    Stream<DynamicTest> ckptFilesBecomeTheGoldenSafetensorsByteForByte() {
        List<DynamicTest> tests = new ArrayList<>();
        Golden.get().entries("models/ckpt").forEach(e -> tests.add(DynamicTest.dynamicTest(e.file(), () -> {
            Path out = tmp.resolve(Path.of(e.file()).getFileName().toString());
            ok("convert", "--model", golden(e.file()).toString(), "--out", out.toString());
            String stem = Path.of(e.file()).getFileName().toString().replace(".ckpt", "");
            Path written = out.resolve(stem + ".safetensors");
            Path same = golden(e.node().get("same_tensors_as").asText());
            assertThat(OutputDirectory.sha256(written)).isEqualTo(OutputDirectory.sha256(same));
            JsonNode m = manifest(out);
            assertThat(m.get("status").asText()).isEqualTo("complete");
            assertThat(m.at("/source/files/0/sha256").asText()).isEqualTo(e.node().get("sha256").asText());
            assertThat(m.at("/source/weights_from/0").asText()).isEqualTo("state_dict");
            assertThat(m.at("/source/format").asText()).isEqualTo("a PyTorch zip checkpoint");
            assertThat(m.get("verified").asText()).startsWith("every tensor read back");
            assertThat(m.at("/files/0/sha256").asText()).isEqualTo(OutputDirectory.sha256(same));
        })));
        return tests.stream();
    }

    @Test
    void float32ToFloat16IsTorchsHalf() {
        Path out = tmp.resolve("half");
        ok("convert", "--model", golden("models/single_file/tiny-sd15.ckpt").toString(), "--dtype", "fp16",
                "--name", "half.safetensors", "--out", out.toString());
        assertThat(OutputDirectory.sha256(out.resolve("half.safetensors")))
                .isEqualTo(OutputDirectory.sha256(golden("models/single_file/tiny-sd15.fp16.safetensors")));
    }

    @Test
    void aFolderBecomesTheGoldenSingleFileAndBack() throws IOException {
        Path single = tmp.resolve("single");
        ok("convert", "--model", golden("models/tiny-sd15").toString(), "--out", single.toString());
        Path file = single.resolve("tiny-sd15.safetensors");
        assertThat(OutputDirectory.sha256(file))
                .isEqualTo(OutputDirectory.sha256(golden("models/single_file/tiny-sd15.safetensors")));

        Path folder = tmp.resolve("folder");
        ok("convert", "--model", file.toString(), "--to", "diffusers", "--config", golden("models/tiny-sd15").toString(),
                "--out", folder.toString());
        sameFolderTensors(folder, golden("models/tiny-sd15"), null);
        for (String c : List.of("unet", "vae", "text_encoder")) {
            assertThat(JSON.readTree(folder.resolve(c + "/config.json").toFile()))
                    .isEqualTo(JSON.readTree(golden("models/tiny-sd15/" + c + "/config.json").toFile()));
        }
        ClipTokenizer written = ClipTokenizer.load(folder.resolve("tokenizer"));
        ClipTokenizer original = ClipTokenizer.load(golden("models/tiny-sd15/tokenizer"));
        for (String prompt : List.of("a photo of a cat", "Ünïcode, punctuation!! and <|endoftext|> tokens", "")) {
            assertThat(written.encode(prompt).inputIds()).as(prompt).isEqualTo(original.encode(prompt).inputIds());
        }
        try (StableDiffusion sd = StableDiffusion.load(folder, StableDiffusion.Options.DEFAULT)) {
            assertThat(new Pipeline(sd).generate(GenerationRequest.builder().prompt("a cat").steps(2).size(16, 16)
                    .seed(1).build()).images()).hasSize(1);
        }
    }

    @Test
    void variantsAreTheGoldenVariantFiles() throws IOException {
        for (String dtype : List.of("fp16", "bf16")) {
            Path out = tmp.resolve(dtype);
            ok("convert", "--model", golden("models/tiny-sd15").toString(), "--to", "diffusers", "--dtype", dtype,
                    "--out", out.toString());
            sameFolderTensors(out, golden("models/tiny-sd15"), dtype);
        }
    }

    /** SD 2.x (OpenCLIP without projection, a dropped last layer) and SDXL (two encoders) go out and come back. */
    @TestFactory
    Stream<DynamicTest> otherFamiliesRoundTripThroughASingleFile() {
        return Golden.get().models().stream()
                .filter(m -> !m.equals("tiny-sd15"))
                .map(m -> DynamicTest.dynamicTest(m, () -> {
                    Path single = tmp.resolve(m + "-single");
                    ok("convert", "--model", golden("models/" + m).toString(), "--out", single.toString());
                    Path back = tmp.resolve(m + "-back");
                    ok("convert", "--model", single.resolve(m + ".safetensors").toString(), "--to", "diffusers",
                            "--config", golden("models/" + m).toString(), "--out", back.toString());
                    sameFolderTensors(back, golden("models/" + m), null);
                }));
    }

    /** Every component weight file of {@code folder} holds the tensors of {@code reference}'s (variant) file. */
    private static void sameFolderTensors(Path folder, Path reference, String variant) {
        DiffusersFolder ref = DiffusersFolder.open(reference);
        for (String c : List.of("unet", "vae", "text_encoder", "text_encoder_2")) {
            if (!ref.hasComponent(c)) {
                continue;
            }
            Path want = variantOrPlain(ref, c, variant);
            boolean bytes = variant == null || !want.equals(ref.weightFile(c, null));   // else: no golden variant file
            try (TensorSource a = WeightFiles.open(DiffusersFolder.open(folder).weightFile(c, null));
                 SafetensorsFile b = SafetensorsFile.open(want)) {
                assertThat(a.names()).as(c).containsExactlyInAnyOrderElementsOf(b.names());
                for (String n : b.names()) {
                    TensorInfo x = a.info(n).orElseThrow();
                    TensorInfo y = b.info(n).orElseThrow();
                    assertThat(x.shape()).as(c + " " + n).isEqualTo(y.shape());
                    if (bytes) {
                        assertThat(x.dtype()).as(c + " " + n).isEqualTo(y.dtype());
                        assertThat(a.data(n).mismatch(b.data(n))).as(c + " " + n).isEqualTo(-1L);
                    } else {
                        assertThat(x.dtype().name()).as(c + " " + n).isEqualTo(variant.toUpperCase(java.util.Locale.ROOT)
                                .replace("FP16", "F16"));
                    }
                }
            }
        }
    }

    private static Path variantOrPlain(DiffusersFolder ref, String component, String variant) {
        if (variant != null) {
            Path v = ref.root().resolve(component).resolve((component.startsWith("text") ? "model." : "diffusion_pytorch_model.")
                    + variant + ".safetensors");
            if (Files.exists(v)) {
                return v;
            }
        }
        return ref.weightFile(component, null);
    }
}
