package dev.unetlens.io.ldm;

import dev.unetlens.UnetlensException;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.DType;
import dev.unetlens.io.DiffusersFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Files that are not LDM safetensors checkpoints are refused with one line that says what to do. */
class RefusalTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"model.ckpt", "model.pt", "model.pth", "pytorch_model.bin", "MODEL.CKPT"})
    void picklesAreRefusedWithAConversionCommand(String name) throws IOException {
        Path file = Files.write(tmp.resolve(name), new byte[] {(byte) 0x80, 2, 'c', 'o'});
        assertThatThrownBy(() -> SingleFileCheckpoint.open(file))
                .isInstanceOf(UnetlensException.class)
                .hasMessageStartingWith(file + ": ")
                .hasMessageContaining("pickles, which can run arbitrary code")
                .hasMessageContaining("torch.load('" + name + "', map_location='cpu', weights_only=True)")
                .hasMessageContaining("save_file(")
                .hasMessageContaining("--to_safetensors")
                .hasMessageNotContaining("\n");
    }

    @Test
    void aPickleNamedSafetensorsIsRecognisedByItsBytes() throws IOException {
        Path zip = Files.write(tmp.resolve("renamed.safetensors"), new byte[] {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0});
        assertThatThrownBy(() -> SingleFileCheckpoint.open(zip))
                .hasMessageContaining("is a Python pickle (a torch checkpoint), not safetensors")
                .hasMessageContaining("save_file(")
                .hasMessageNotContaining("\n");
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
