package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.DType;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --lora FILE[:SCALE]} on the command line: repeatable, recorded in the manifest (file, scale, SHA-256, the
 * hash A1111 keys LoRAs by) and in the PNG's parameters as A1111 writes them ({@code <lora:name:scale>} after the
 * prompt, {@code Lora hashes: "name: hash12, …"}); a missing or foreign file fails in one line.
 */
class LoraCliTest {
    private static final String TO_Q = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q";

    @TempDir
    Path tmp;

    /** A rank-2 kohya LoRA of one attention projection of tiny-sd15. */
    private Path lora(String name, long seed) {
        Path unet = Golden.get().path("models/tiny-sd15/unet/diffusion_pytorch_model.safetensors");
        long[] w;
        try (SafetensorsFile f = SafetensorsFile.open(unet)) {
            w = f.info(TO_Q + ".weight").orElseThrow().shape();
        }
        String module = "lora_unet_" + TO_Q.replace('.', '_');
        SafetensorsWriter out = new SafetensorsWriter();
        out.add(module + ".lora_down.weight", DType.F32, new long[] {2, w[1]}, random(2 * w[1], seed));
        out.add(module + ".lora_up.weight", DType.F32, new long[] {w[0], 2}, random(2 * w[0], seed + 1));
        Path file = tmp.resolve(name + ".safetensors");
        out.write(file);
        return file;
    }

    private static ByteBuffer random(long n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        ByteBuffer b = ByteBuffer.allocate((int) (4 * n)).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            b.putFloat((float) r.nextGaussian());
        }
        return b.flip();
    }

    @Test
    void generateRecordsItsLorasAsA1111Does() throws Exception {
        Path style = lora("style", 1);
        Path detail = lora("detail", 3);
        Path out = tmp.resolve("out");
        CliRun r = CliRun.of("generate", "--model", Golden.get().path("models/tiny-sd15").toString(),
                "--lora", style + ":0.8", "--lora", detail.toString(), "-p", "a cat <lora:detail:1>", "--steps", "2",
                "--seed", "5", "--height", "32", "--width", "32", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        String params = RgbImage.readPngText(out.resolve("image.png")).get("parameters");
        assertThat(params).startsWith("a cat <lora:detail:1> <lora:style:0.8>\n");
        JsonNode m = new ObjectMapper().readTree(out.resolve(OutputDirectory.MANIFEST).toFile());
        JsonNode loras = m.at("/model/loras");
        assertThat(loras).hasSize(2);
        assertThat(loras.get(0).get("name").asText()).isEqualTo("style");
        assertThat(loras.get(0).get("scale").asDouble()).isEqualTo(0.8);
        assertThat(loras.get(0).get("sha256").asText()).isEqualTo(OutputDirectory.sha256(style));
        assertThat(loras.get(0).at("/modules_merged/unet").asInt()).isEqualTo(1);
        String h1 = loras.get(0).get("a1111_hash").asText();
        String h2 = loras.get(1).get("a1111_hash").asText();
        assertThat(h1).hasSize(12).isNotEqualTo(h2);
        assertThat(params).contains(", Lora hashes: \"style: " + h1 + ", detail: " + h2 + "\", Version: unetlens ");

        Path plain = tmp.resolve("plain");
        assertThat(CliRun.of("generate", "--model", Golden.get().path("models/tiny-sd15").toString(), "-p",
                "a cat <lora:detail:1>", "--steps", "2", "--seed", "5", "--height", "32", "--width", "32", "--out",
                plain.toString()).code()).isZero();
        assertThat(OutputDirectory.sha256(plain.resolve("latents.npy")))
                .as("the LoRAs change the result").isNotEqualTo(OutputDirectory.sha256(out.resolve("latents.npy")));
    }

    @Test
    void badLorasFailInOneLine() {
        String model = Golden.get().path("models/tiny-sd15").toString();
        CliRun missing = CliRun.of("generate", "--model", model, "--lora", tmp.resolve("nope.safetensors") + ":0.5",
                "-p", "x", "--steps", "1", "--out", tmp.resolve("a").toString());
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.errorLines()).singleElement().asString().contains("nope.safetensors").contains("no such file");
        CliRun scale = CliRun.of("generate", "--model", model, "--lora", "x.safetensors:big", "-p", "x", "--out",
                tmp.resolve("b").toString());
        assertThat(scale.errorLines()).singleElement().asString().contains("the scale 'big' after the last ':' is not a number");
        CliRun convert = CliRun.of("convert", "--model", model, "--lora", lora("s", 1).toString(), "--out",
                tmp.resolve("c").toString());
        assertThat(convert.errorLines()).singleElement().asString().contains("does not bake LoRAs in yet");
        assertThat(tmp.resolve("a")).doesNotExist();
        assertThat(tmp.resolve("c")).doesNotExist();
    }
}
