package dev.unetlens.synth;

import ai.djl.ndarray.NDManager;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.unet.UNet2DConditionModel;
import dev.unetlens.model.vae.AutoencoderKL;
import dev.unetlens.tokenizer.ClipTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The bundled tiny model is written deterministically, in the diffusers layout, and loads strictly. */
class SyntheticModelTest {

    @Test
    void tinyModelIsDeterministicAndLoads(@TempDir Path tmp) throws Exception {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        SyntheticModel.TINY_SD15.write(a, 5);
        SyntheticModel.TINY_SD15.write(b, 5);
        try (Stream<Path> files = Files.walk(a)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path other = b.resolve(a.relativize(f));
                assertThat(OutputDirectory.sha256(f)).as(a.relativize(f).toString()).isEqualTo(OutputDirectory.sha256(other));
            }
        }
        DiffusersFolder folder = DiffusersFolder.open(a);
        try (NDManager m = NDManager.newBaseManager();
             TensorSource u = folder.openWeights("unet", null);
             TensorSource v = folder.openWeights("vae", null);
             TensorSource t = folder.openWeights("text_encoder", null)) {
            UNet2DConditionModel.load(u, UNetConfig.read(folder.config("unet")), m);
            AutoencoderKL.load(v, VaeConfig.read(folder.config("vae")), m);
            ClipTextModel.load(t, ClipTextConfig.read(folder.config("text_encoder")), m);
        }
        ClipTokenizer tok = ClipTokenizer.load(folder.component("tokenizer"));
        assertThat(tok.encode("A picture of a puppy").inputIds()).startsWith(49406, 320, 1674, 539, 320, 6829, 49407);
        assertThat(folder.config("scheduler")).exists();
    }

    @Test
    void anotherSeedGivesOtherWeights(@TempDir Path tmp) {
        SyntheticModel.TINY_SD15.write(tmp.resolve("a"), 1, java.util.EnumSet.of(SyntheticModel.Component.VAE));
        SyntheticModel.TINY_SD15.write(tmp.resolve("b"), 2, java.util.EnumSet.of(SyntheticModel.Component.VAE));
        assertThat(OutputDirectory.sha256(tmp.resolve("a/vae/diffusion_pytorch_model.safetensors")))
                .isNotEqualTo(OutputDirectory.sha256(tmp.resolve("b/vae/diffusion_pytorch_model.safetensors")));
    }

    @Test
    void bundledModelIsWrittenOnceIntoTheCache(@TempDir Path tmp) {
        Path first = BundledModel.ensureIn(tmp);
        long written = first.resolve("unet/diffusion_pytorch_model.safetensors").toFile().lastModified();
        Path again = BundledModel.ensureIn(tmp);
        assertThat(again).isEqualTo(first);
        assertThat(again.resolve("unet/diffusion_pytorch_model.safetensors").toFile().lastModified()).isEqualTo(written);
        assertThat(tmp.toFile().list()).containsExactly(first.getFileName().toString());
    }
}
