package dev.unetlens.io.ldm;

import dev.unetlens.UnetlensException;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.DType;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Files that are not LDM checkpoints are refused with one line that says what to do. */
class RefusalTest {
    @TempDir
    Path tmp;

    /** Pickles are read by the restricted reader, whatever their name: a broken one fails at its opcode. */
    @ParameterizedTest
    @ValueSource(strings = {"model.ckpt", "model.pt", "model.pth", "pytorch_model.bin", "MODEL.CKPT", "m.safetensors"})
    void picklesAreReadByTheirBytesNeverRun(String name) throws IOException {
        Path file = Files.write(tmp.resolve(name), new byte[] {(byte) 0x80, 2, 'c', 'o'});
        assertThatThrownBy(() -> SingleFileCheckpoint.open(file))
                .isInstanceOf(UnetlensException.class)
                .hasMessage(file + ": GLOBAL 'c' at byte 2 has no newline-terminated argument before the end of the"
                        + " pickle (truncated?)");
    }

    /**
     * Pickles under a safetensors name are told by their structure (zip, protocol 2 to 5, protocol 0/1) and read as
     * checkpoints; where a safetensors file is required, they are refused with the command that converts them.
     */
    @ParameterizedTest
    @ValueSource(strings = {"zip", "protocol 2", "protocol 0", "protocol 1"})
    void aPickleNamedSafetensorsIsRecognisedByItsBytes(String kind) throws IOException {
        byte[] bytes = switch (kind) {
            case "zip" -> new byte[] {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0};
            case "protocol 2" -> new byte[] {(byte) 0x80, 2, '}', 'q', 0, '.'};   // pickle.dumps({}, 2)
            case "protocol 0" -> "(dp0\nVa\np1\nI1\ns.".getBytes(StandardCharsets.US_ASCII);   // {'a': 1}, protocol 0
            default -> new byte[] {'}', 'q', 0, 'X', 1, 0, 0, 0, 'a', 'q', 1, 'K', 1, 's', '.'};   // protocol 1
        };
        Path file = Files.write(tmp.resolve("renamed.safetensors"), bytes);
        String what = kind.equals("zip") ? "a PyTorch zip checkpoint" : "a Python pickle";
        assertThatThrownBy(() -> SingleFileCheckpoint.open(file))
                .hasMessage(file + (kind.equals("zip")
                        ? ": a damaged zip archive: it has no end-of-central-directory record (truncated, or not a zip archive)"
                        : ": a Python pickle, but not a PyTorch checkpoint (no torch.save magic number; it holds a dict)"));
        assertThatThrownBy(() -> SafetensorsFile.open(file))
                .hasMessage(file + ": " + what + ", not safetensors; unetlens reads such checkpoints as models (--model)"
                        + " without running their code, and converts them with: unetlens convert --model " + file
                        + " --out DIR");
    }

    /**
     * A valid safetensors file whose header length reads {@code 80 02} ... {@code 80 05} in its first two bytes (a
     * pickle's protocol opcode) is safetensors: its structure says so.
     */
    @ParameterizedTest
    @ValueSource(ints = {640, 896, 1152, 1408})
    void aHeaderLengthThatLooksLikeAPickleOpcodeIsStillSafetensors(int length) throws IOException {
        String entry = "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        String header = entry + " ".repeat(length - entry.length());
        byte[] len = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(length).array();
        assertThat(len[0] & 0xff).isEqualTo(0x80);
        Path file = tmp.resolve("l" + length + ".safetensors");
        try (var out = Files.newOutputStream(file)) {
            out.write(len);
            out.write(header.getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[4]);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.names()).containsExactly("t");
        }
        assertThatThrownBy(() -> SingleFileCheckpoint.open(file)).hasMessageContaining("no model.diffusion_model.* keys");
    }

    @Test
    void aDiffusersComponentFileIsNotACheckpoint() {
        Path unet = DiffusersFolder.open(Golden.get().path("models/tiny-sd15")).weightFile("unet", null);
        assertThatThrownBy(() -> SingleFileCheckpoint.open(unet))
                .hasMessage(unet + ": no model.diffusion_model.* keys: not a Stable Diffusion checkpoint in the"
                        + " original LDM/CompVis naming; it looks like one diffusers component file: open the diffusers"
                        + " folder that holds it instead");
    }

    @Test
    void otherSafetensorsNameWhatWasExpected() throws IOException {
        Map<String, Blob> tensors = new LinkedHashMap<>();
        tensors.put("encoder.layer.0.weight", Blob.random(DType.F32, new long[] {2, 2}, 1));
        Path other = TestSafetensors.write(tmp.resolve("bert.safetensors"), tensors);
        assertThatThrownBy(() -> SingleFileCheckpoint.open(other))
                .hasMessage(other + ": no model.diffusion_model.* keys: not a Stable Diffusion checkpoint in the"
                        + " original LDM/CompVis naming");
        Path empty = TestSafetensors.write(tmp.resolve("empty.safetensors"), Map.of());
        assertThatThrownBy(() -> SingleFileCheckpoint.open(empty))
                .hasMessageEndingWith("naming (the file holds no tensors)");
    }

    @Test
    void brokenFilesFailInOneLine() throws IOException {
        Path truncated = Files.write(tmp.resolve("t.safetensors"), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> SingleFileCheckpoint.open(truncated))
                .isInstanceOf(UnetlensException.class)
                .hasMessageContaining("truncated")
                .hasMessageNotContaining("\n");
        Map<String, Blob> tensors = new LinkedHashMap<>();
        tensors.put(LdmFamily.UNET_PREFIX + "input_blocks.0.0.weight", Blob.random(DType.F32, new long[] {2}, 1));
        tensors.put(LdmFamily.UNET_PREFIX + "input_blocks.1.0.in_layers.0.weight", Blob.random(DType.F32, new long[] {2}, 2));
        tensors.put(LdmFamily.UNET_PREFIX + "input_blocks.2.0.in_layers.0.weight", Blob.random(DType.F32, new long[] {2}, 3));
        Path partial = TestSafetensors.write(tmp.resolve("partial.safetensors"), tensors);
        assertThatThrownBy(() -> SingleFileCheckpoint.open(partial))
                .hasMessageContaining("U-Net blocks do not follow the LDM layout")
                .hasMessageNotContaining("\n");
    }
}
