package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --precision}: fp32 by default and recorded so; bf16 recorded in the manifest with its error against fp32 on
 * the first step and in the PNG's parameters, and a result that differs from fp32's but not by much; a bad value is one
 * line. (Needs a CPU with AVX512_BF16 or AMX for the bf16 runs, as the option itself does.)
 */
class PrecisionCliTest {
    @TempDir
    Path tmp;

    private CliRun generate(Path out, String... extra) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("generate", "--model",
                Golden.get().path("models/tiny-sd15").toString(), "-p", "a cat", "--steps", "2", "--seed", "5",
                "--height", "32", "--width", "32", "--out", out.toString()));
        args.addAll(java.util.List.of(extra));
        return CliRun.of(args);
    }

    @Test
    void generateRecordsThePrecisionAndTheBf16Error() throws Exception {
        Path fp32 = tmp.resolve("fp32");
        CliRun plain = generate(fp32);
        assertThat(plain.code()).as(plain.err()).isZero();
        JsonNode m32 = new ObjectMapper().readTree(fp32.resolve(OutputDirectory.MANIFEST).toFile());
        assertThat(m32.at("/precision/unet").asText()).isEqualTo("fp32");
        assertThat(m32.at("/precision/error_vs_fp32").isMissingNode()).isTrue();
        assertThat(RgbImage.readPngText(fp32.resolve("image.png")).get("parameters")).contains(", Precision: fp32");

        Path bf16 = tmp.resolve("bf16");
        CliRun reduced = generate(bf16, "--precision", "bf16");
        assertThat(reduced.code()).as(reduced.err()).isZero();
        JsonNode m = new ObjectMapper().readTree(bf16.resolve(OutputDirectory.MANIFEST).toFile());
        assertThat(m.at("/precision/unet").asText()).isEqualTo("bf16");
        JsonNode err = m.at("/precision/error_vs_fp32");
        assertThat(err.get("relative_l2").asDouble()).as(err.toString()).isPositive()
                .isLessThanOrEqualTo(0.08);                         // the bound UNetBf16GoldenTest derives
        assertThat(err.get("max_abs").asDouble()).isPositive();
        assertThat(err.get("extra_bf16_forward").isBoolean()).as("generate watches blocks, so a detached bf16 forward is compared").isTrue();
        assertThat(RgbImage.readPngText(bf16.resolve("image.png")).get("parameters")).contains(", Precision: bf16");
        assertThat(Files.readAllBytes(bf16.resolve("latents.npy"))).as("bf16 changes the numbers")
                .isNotEqualTo(Files.readAllBytes(fp32.resolve("latents.npy")));
    }

    @Test
    void aBadPrecisionIsOneLine() {
        CliRun r = generate(tmp.resolve("x"), "--precision", "fp8");
        assertThat(r.code()).isNotZero();
        assertThat(r.errorLines()).singleElement().asString().contains("--precision must be fp32 or bf16, got 'fp8'");
        assertThat(tmp.resolve("x")).doesNotExist();
    }
}
