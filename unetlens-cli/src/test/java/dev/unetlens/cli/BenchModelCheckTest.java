package dev.unetlens.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.UnetlensException;
import dev.unetlens.cli.bench.BaselineRatios;
import dev.unetlens.cli.bench.BenchModel;
import dev.unetlens.synth.SyntheticModel;
import dev.unetlens.synth.SyntheticModel.Component;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The bench times full-size SD 1.5 against its reference figures: another model is refused, never scored. */
class BenchModelCheckTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aModelOfOtherShapesIsRefused(@TempDir Path tmp) {
        Path tiny = tmp.resolve("tiny");
        SyntheticModel.TINY_SD15.write(tiny, 1, EnumSet.of(Component.UNET, Component.TEXT_ENCODER));
        assertThatThrownBy(() -> BenchModel.checkShapes(SyntheticModel.SD15, tiny, Set.of(Component.UNET)))
                .isInstanceOf(UnetlensException.class)
                .hasMessageContaining("the cases time full-size SD 1.5, whose unet has block_out_channels [320,640,1280,1280]");
        assertThatThrownBy(() -> BenchModel.checkShapes(SyntheticModel.SD15, tiny, Set.of(Component.TEXT_ENCODER)))
                .hasMessageContaining("text_encoder has hidden_size 768");
        BenchModel.checkShapes(SyntheticModel.SD15, tmp.resolve("not-yet-written"), EnumSet.allOf(Component.class));
        CliRun r = CliRun.of("bench", "--cases", "unet_32_b1", "--model", tiny.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.errorLines()).singleElement().asString().contains("full-size SD 1.5");
    }

    @Test
    void anSdxlCaseRefusesAnSd15Model(@TempDir Path tmp) {
        Path tiny = tmp.resolve("tiny");
        SyntheticModel.TINY_SD15.write(tiny, 1, EnumSet.of(Component.UNET));
        CliRun r = CliRun.of("bench", "--cases", "unet_xl_128_b1", "--model-xl", tiny.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.errorLines()).singleElement().asString()
                .contains("bench --model-xl " + tiny + ": the cases time full-size SDXL, whose unet has block_out_channels [320,640,1280]");
    }

    @Test
    void theSyntheticSdxlHasNoTextEncoders(@TempDir Path tmp) {
        assertThatThrownBy(() -> SyntheticModel.SDXL.write(tmp.resolve("xl"), 1, EnumSet.of(Component.TEXT_ENCODER)))
                .hasMessageContaining("has no [TEXT_ENCODER]");
    }

    @Test
    void resultsOfAnotherModelAreNotComparedWithTheReference() throws Exception {
        var ref = JSON.readTree("{\"median_s\": 3.5, \"params\": 859520964, \"out_shape\": [1, 4, 32, 32]}");
        assertThat(BaselineRatios.different(JSON.readTree("{\"params\": 859520964, \"out_shape\": [1, 4, 32, 32]}"), ref)).isNull();
        assertThat(BaselineRatios.different(JSON.readTree("{\"params\": 1000, \"out_shape\": [1, 4, 32, 32]}"), ref))
                .contains("this model has 1,000 parameters, the reference's 859,520,964");
        assertThat(BaselineRatios.different(JSON.readTree("{\"params\": 859520964, \"out_shape\": [1, 4, 16, 16]}"), ref))
                .contains("output shape");
    }
}
