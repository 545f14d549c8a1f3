package dev.unetlens.cli;

import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.rng.TorchGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A step that takes long says which U-Net block (and which VAE stage while decoding) it has reached. */
class BlockProgressTest {
    @Test
    void longStepsSayWhereTheyAre(@TempDir Path tmp) {
        Path model = TinyModel.write(tmp);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ConsoleProgress progress = new ConsoleProgress(new PrintStream(buf, true, StandardCharsets.UTF_8), false, 0, 0);
        try (StableDiffusion sd = StableDiffusion.load(model, StableDiffusion.Options.DEFAULT);
             BlockProgress watch = BlockProgress.watch(sd, progress)) {
            GenerationRequest r = GenerationRequest.builder().prompt("a cat").steps(2).size(64, 64).seed(1).build();
            new Pipeline(sd).generate(r, new TorchGenerator(1), Pipeline.StepCallback.NONE, progress);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertThat(out.lines()).contains("denoising (2) …")
                .anyMatch(l -> l.startsWith("denoising 1/2: U-Net IN00 (1 of 25 blocks), "))
                .anyMatch(l -> l.startsWith("denoising 2/2: U-Net OUT11 (25 of 25 blocks), "))
                .anyMatch(l -> l.startsWith("decoding: VAE decoder.up_blocks.3 ("));
        ByteArrayOutputStream quiet = new ByteArrayOutputStream();
        ConsoleProgress normal = new ConsoleProgress(new PrintStream(quiet, true, StandardCharsets.UTF_8), false);
        normal.start("denoising", 2);
        normal.inside("U-Net IN00");
        assertThat(quiet.toString(StandardCharsets.UTF_8)).as("short steps show no blocks").doesNotContain("IN00");
    }
}
