package dev.unetlens.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.golden.Close;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.NpyArray;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Loading models: single-file checkpoints run the same pipeline as their diffusers folder; bad paths fail in one line. */
class StableDiffusionLoadTest {

    /** Each float32 golden single file, with its folder's configs, reproduces the folder's txt2img runs. */
    @TestFactory
    Stream<DynamicTest> singleFileRunsMatchTheFolder() throws Exception {
        Golden g = Golden.get();
        try (Stream<Path> files = Files.list(g.path("models/single_file"))) {
            return files.filter(f -> f.getFileName().toString().matches("[^.]+\\.safetensors")).sorted().toList().stream()
                    .flatMap(file -> {
                        String model = file.getFileName().toString().replace(".safetensors", "");
                        Path dir = g.path("cases/" + model + "/pipeline");
                        try (Stream<Path> runs = Files.list(dir)) {
                            return runs.filter(r -> r.getFileName().toString().startsWith("txt2img")).sorted().toList().stream()
                                    .map(run -> DynamicTest.dynamicTest(model + " single file " + run.getFileName(),
                                            () -> check(file, model, "cases/" + model + "/pipeline/" + run.getFileName() + "/")));
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
        }
    }

    private static void check(Path file, String model, String rel) {
        Golden g = Golden.get();
        JsonNode meta = g.json(rel + "meta.json");
        GenerationRequest r = PipelineGoldenTest.request(meta, rel);
        StableDiffusion.Options o = new StableDiffusion.Options(null, g.path("models/" + model), null);
        try (StableDiffusion sd = StableDiffusion.load(file, o)) {
            assertThat(sd.weightFiles()).containsExactly(file);
            GenerationResult res = new Pipeline(sd).generate(r);
            NpyArray expected = g.npy(rel + "final_latents.npy");
            Close.assertCloseToMagnitude(rel + "final_latents.npy via " + file.getFileName(), res.finalLatents().shape(),
                    res.finalLatents().toFloats(), expected, PipelineGoldenTest.LATENT_REL);
        }
    }

    @Test
    void missingAndWrongPathsFailInOneLine(@TempDir Path tmp) throws Exception {
        assertThatThrownBy(() -> StableDiffusion.load(tmp.resolve("nope"), StableDiffusion.Options.DEFAULT))
                .isInstanceOf(UnetlensException.class).hasMessageContaining("no such model folder");
        assertThatThrownBy(() -> StableDiffusion.load(tmp, StableDiffusion.Options.DEFAULT))
                .isInstanceOf(UnetlensException.class).hasMessageContaining("no model_index.json");
        Path pickle = Files.write(tmp.resolve("model.ckpt"), new byte[] {(byte) 0x80, 2, 'c'});
        assertThatThrownBy(() -> StableDiffusion.load(pickle, StableDiffusion.Options.DEFAULT))
                .isInstanceOf(UnetlensException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").containsIgnoringCase("pickle"));
    }
}
