package dev.unetlens.hook;

import dev.unetlens.UnetlensException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModulePathTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "down_blocks[1].attentions[0]|down_blocks.1.attentions.0",
        "down_blocks.1.attentions.0|down_blocks.1.attentions.0",
        "  mid_block  |mid_block",
        "up_blocks[2].attentions[1].transformer_blocks[0].attn2:probs|up_blocks.2.attentions.1.transformer_blocks.0.attn2:probs",
        "down_blocks.01|down_blocks.1",
        "conv_in|conv_in",
        "down_blocks[0][1]|down_blocks.0.1",
    })
    void bothSpellingsParseToTheDottedForm(String text, String canonical) {
        assertThat(ModulePath.parse(text).value()).isEqualTo(canonical);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "down_blocks[", "down_blocks[x]", "a..b", "a.", "__import__('os').system('x')",
        "a:probs.b", "a b", "down_blocks[1", "a:"})
    void badNamesFailWithOneLine(String text) {
        assertThatThrownBy(() -> ModulePath.parse(text))
                .isInstanceOf(UnetlensException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "text_encoder:text_model.encoder.layers[3]|text_encoder|text_model.encoder.layers.3|text_encoder:text_model.encoder.layers.3",
        "text_encoder_2 : text_model.encoder.layers.0.self_attn:probs|text_encoder_2|text_model.encoder.layers.0.self_attn:probs|text_encoder_2:text_model.encoder.layers.0.self_attn:probs",
        "vae:decoder.up_blocks[0]|vae|decoder.up_blocks.0|vae:decoder.up_blocks.0",
        "unet:mid_block|unet|mid_block|mid_block",
        "mid_block|unet|mid_block|mid_block",
        "mid_block.attentions.0.transformer_blocks.0.attn2:probs|unet|mid_block.attentions.0.transformer_blocks.0.attn2:probs|mid_block.attentions.0.transformer_blocks.0.attn2:probs",
    })
    void componentsPrefixThePath(String text, String component, String path, String qualified) {
        ModulePath p = ModulePath.parse(text);
        assertThat(p.component().cliName()).isEqualTo(component);
        assertThat(p.value()).isEqualTo(path);
        assertThat(p.qualified()).isEqualTo(qualified);
        assertThat(ModulePath.parse(p.qualified())).isEqualTo(p);
    }

    @Test
    void aNameWithoutComponentIsTheFallbacks() {
        assertThat(ModulePath.parse("encoder.mid_block", Component.VAE)).isEqualTo(new ModulePath(Component.VAE, "encoder.mid_block"));
        assertThat(ModulePath.parse("unet:mid_block", Component.VAE).component()).isEqualTo(Component.UNET);
        assertThat(ModulePath.parse("text_encoder:x", Component.VAE).isWithin(ModulePath.parse("vae:x"))).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"vae:", "text_encoder:  ", "vae:enc oder", "text_encoder:a[", "vae:encoder..mid"})
    void badQualifiedNamesFailWithOneLine(String text) {
        assertThatThrownBy(() -> ModulePath.parse(text))
                .isInstanceOf(UnetlensException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").contains(text.strip()));
    }

    @Test
    void withinMeansTheModuleOrItsDescendants() {
        ModulePath p = ModulePath.parse("down_blocks.1.attentions.0.transformer_blocks.0.attn2:probs");
        assertThat(p.isWithin(ModulePath.parse("down_blocks[1]"))).isTrue();
        assertThat(p.isWithin(ModulePath.parse("down_blocks.10"))).isFalse();
        assertThat(p.module()).isEqualTo("down_blocks.1.attentions.0.transformer_blocks.0.attn2");
    }
}
