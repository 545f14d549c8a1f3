package dev.unetlens.hook;

import dev.unetlens.UnetlensException;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.synth.SyntheticModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One selection grammar over every component of a model ({@link Selector#resolve(String, ModelHooks, Component)}). */
class ModelSelectorTest {
    @TempDir
    static Path dir;
    private static StableDiffusion sd;
    private static ModelHooks hooks;

    @BeforeAll
    static void load() {
        Path model = dir.resolve("tiny-sd15");
        SyntheticModel.TINY_SD15.write(model, 20241);
        sd = StableDiffusion.load(model, StableDiffusion.Options.DEFAULT);
        hooks = ModelHooks.of(sd);
    }

    @AfterAll
    static void close() {
        sd.close();
    }

    @Test
    void componentsMixInOneSelection() {
        List<ModulePath> p = hooks.resolve("IN01, text_encoder:text_model.encoder.layers[1], vae:decoder.up_blocks.0,"
                + " text_model.embeddings", Component.TEXT_ENCODER);
        assertThat(p).extracting(ModulePath::qualified).containsExactly("down_blocks.0.attentions.0",
                "text_encoder:text_model.encoder.layers.1", "vae:decoder.up_blocks.0", "text_encoder:text_model.embeddings");
        assertThat(hooks.resolve("encoder.mid_block", Component.VAE)).containsExactly(new ModulePath(Component.VAE, "encoder.mid_block"));
    }

    @Test
    void aNameOfAnotherComponentIsSuggestedWithItsComponent() {
        assertThatThrownBy(() -> hooks.resolve("text_model.encoder.layers.1", Component.UNET))
                .isInstanceOf(UnetlensException.class)
                .hasMessageStartingWith("unknown module 'text_model.encoder.layers.1'; nearest valid names: text_encoder:text_model.encoder.layers.1");
        assertThatThrownBy(() -> hooks.resolve("vae:decoder.up_blocks.9", Component.UNET))
                .hasMessageContaining("vae:decoder.up_blocks.0").hasMessageContaining("'unetlens inspect --component vae'");
    }

    @Test
    void aComponentTheModelLacksIsNamed() {
        assertThatThrownBy(() -> hooks.resolve("text_encoder_2:text_model.embeddings", Component.UNET))
                .hasMessage("this model has no text_encoder_2 (it has unet, text_encoder, vae)");
    }

    @Test
    void theUNetOnlyFormKeepsItsAnswers() {
        assertThat(Selector.resolve("IN00-IN02, mid_block", sd.unet().hooks(), hooks.blocks()))
                .containsExactly("conv_in", "down_blocks.0.attentions.0", "down_blocks.0.attentions.1", "mid_block");
    }
}
