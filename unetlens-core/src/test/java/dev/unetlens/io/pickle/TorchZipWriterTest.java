package dev.unetlens.io.pickle;

import dev.unetlens.golden.Golden;
import dev.unetlens.golden.ModelCopy;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The test writer of torch zip checkpoints reads back exactly (its output also loads in torch 1.13: checked by hand
 * with {@code torch.load} while writing it), and a diffusers folder whose weights are PyTorch {@code .bin} files, as
 * older Hub repositories have them, loads through the restricted reader with the same tensors as safetensors.
 */
class TorchZipWriterTest {
    @TempDir
    Path tmp;

    /** Every tensor of a safetensors file, for the writer. */
    public static Map<String, TorchZipWriter.Tensor> tensors(TensorSource src) {
        Map<String, TorchZipWriter.Tensor> out = new LinkedHashMap<>();
        for (String name : src.names()) {
            TensorInfo t = src.info(name).orElseThrow();
            out.put(name, new TorchZipWriter.Tensor(t.dtype(), t.shape(), src.data(name).toArray(ValueLayout.JAVA_BYTE)));
        }
        return out;
    }

    @Test
    void aDiffusersFolderWithBinWeightsLoadsTheSameTensors() throws IOException {
        Path copy = ModelCopy.of("tiny-sd15", tmp.resolve("model"));
        Path unet = copy.resolve("unet/diffusion_pytorch_model.safetensors");
        byte[] bin;
        try (SafetensorsFile f = SafetensorsFile.open(unet)) {
            bin = TorchZipWriter.write("archive", tensors(f), false);
        }
        Files.delete(unet);
        ModelCopy.write(copy, "unet/diffusion_pytorch_model.bin", bin);
        DiffusersFolder folder = DiffusersFolder.open(copy);
        assertThat(folder.weightFile("unet", null).getFileName().toString()).isEqualTo("diffusion_pytorch_model.bin");
        try (TensorSource loaded = folder.openWeights("unet", null);
             SafetensorsFile golden = SafetensorsFile.open(Golden.get().path("models/tiny-sd15/unet/diffusion_pytorch_model.safetensors"))) {
            assertThat(loaded).isInstanceOf(TorchCheckpoint.class);
            assertThat(loaded.names()).containsExactlyElementsOf(golden.names());
            for (String name : golden.names()) {
                assertThat(loaded.data(name).mismatch(golden.data(name))).as(name).isEqualTo(-1L);
            }
        }
        try (var sd = dev.unetlens.pipeline.StableDiffusion.load(copy, dev.unetlens.pipeline.StableDiffusion.Options.DEFAULT)) {
            assertThat(sd.weightFiles()).contains(copy.resolve("unet/diffusion_pytorch_model.bin"));
        }
    }
}
