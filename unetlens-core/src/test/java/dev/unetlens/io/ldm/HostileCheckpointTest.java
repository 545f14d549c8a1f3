package dev.unetlens.io.ldm;

import ai.djl.ndarray.NDManager;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.ConfigException;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.io.DType;
import dev.unetlens.model.WeightsException;
import dev.unetlens.model.unet.UNet2DConditionModel;
import dev.unetlens.model.vae.AutoencoderKL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Single-file checkpoints whose keys and shapes break what the key maps and config inference assume: block indices
 * of 2³¹ and more (a NumberFormatException naming neither file nor key), tensors of other ranks (array index out of
 * bounds), dimensions past int in tensors of no elements (valid files; Math.toIntExact overflow), and VAE attention
 * kernels with any number of trailing ones.
 */
class HostileCheckpointTest {
    @TempDir
    Path tmp;

    /** The micro SD 1.x checkpoint with {@code edit} applied to its key → shape map. */
    private Path checkpoint(String name, Consumer<Map<String, long[]>> edit) throws IOException {
        Map<String, long[]> shapes = new LinkedHashMap<>(MicroCheckpoints.shapes(LdmFamily.SD1));
        edit.accept(shapes);
        Map<String, Blob> tensors = new LinkedHashMap<>();
        long seed = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            tensors.put(e.getKey(), Blob.random(DType.F16, e.getValue(), seed++));
        }
        return TestSafetensors.write(tmp.resolve(name), tensors);
    }

    @ParameterizedTest
    @ValueSource(strings = {"model.diffusion_model.input_blocks.2147483648.0.in_layers.0.weight",
        "model.diffusion_model.output_blocks.9223372036854775808.0.in_layers.0.weight",
        "model.diffusion_model.middle_block.2147483648.in_layers.0.weight",
        "model.diffusion_model.input_blocks.1.99999999999.weight",
        "first_stage_model.encoder.down.2147483648.block.0.norm1.weight",
        "first_stage_model.decoder.up.0.block.4294967296.norm1.weight"})
    void blockIndicesPastIntAreUnrecognizedKeysThatLoadingNames(String key) throws IOException {
        Path file = checkpoint("big-index.safetensors", s -> s.put(key, new long[] {2}));
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(file)) {
            assertThat(ckpt.unrecognized()).containsExactly(key);
            CheckpointConfigs c = ckpt.inferConfigs();
            LdmComponent component = key.startsWith(LdmFamily.VAE_PREFIX) ? LdmComponent.VAE : LdmComponent.UNET;
            String unprefixed = key.substring(ckpt.prefix(component).length());
            try (NDManager m = NDManager.newBaseManager()) {
                assertThatThrownBy(() -> {
                    if (component == LdmComponent.VAE) {
                        AutoencoderKL.load(ckpt.component(component), VaeConfig.from(c.json(component)), m);
                    } else {
                        UNet2DConditionModel.load(ckpt.component(component), UNetConfig.from(c.json(component)), m);
                    }
                }).isInstanceOf(WeightsException.class)
                        .hasMessageContaining(file.toString())
                        .hasMessageContaining("unexpected 1: '" + unprefixed + "'");
            }
        }
    }

    @Test
    void anOpenClipLayerPastIntIsUnrecognizedToo() throws IOException {
        Map<String, long[]> shapes = new LinkedHashMap<>(MicroCheckpoints.shapes(LdmFamily.SD2));
        String key = "cond_stage_model.model.transformer.resblocks.2147483648.ln_1.weight";
        shapes.put(key, new long[] {64});
        Map<String, Blob> tensors = new LinkedHashMap<>();
        shapes.forEach((k, s) -> tensors.put(k, Blob.random(DType.F16, s, 1)));
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(TestSafetensors.write(tmp.resolve("sd2.safetensors"), tensors))) {
            assertThat(ckpt.unrecognized()).containsExactly(key);
        }
    }

    /** Family detection and config inference read shapes only after checking their rank. */
    @Test
    void tensorsOfAnotherRankFailInOneLine() throws IOException {
        String toK = LdmFamily.UNET_PREFIX + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight";
        Path rank1 = checkpoint("rank1.safetensors", s -> s.put(toK, new long[] {32}));
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(rank1)) {
            assertThatThrownBy(ckpt::inferConfigs).isInstanceOf(ConfigException.class)
                    .hasMessage(rank1 + ": '" + toK + "' has shape [32]; a cross-attention key weight is a matrix [out, in]");
        }
        // a U-Net alone: the family falls back on the U-Net's own probe tensors
        Path probe = checkpoint("probe.safetensors", s -> {
            s.keySet().removeIf(k -> !k.startsWith(LdmFamily.UNET_PREFIX));
            s.put(LdmFamily.UNET_PREFIX + LdmFamily.V2_PROBE, new long[] {});
        });
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(probe)) {
            assertThat(ckpt.family()).isEqualTo(LdmFamily.SD1);
        }
        Path xl = checkpoint("xl.safetensors", s -> {
            s.keySet().removeIf(k -> !k.startsWith(LdmFamily.UNET_PREFIX));
            s.put(LdmFamily.UNET_PREFIX + "label_emb.0.0.weight", new long[] {128, 8});
            s.put(toK, new long[] {});
        });
        assertThatThrownBy(() -> SingleFileCheckpoint.open(xl)).isInstanceOf(UnetlensException.class)
                .hasMessage(xl + ": '" + toK + "' has shape []; a cross-attention key weight is a matrix [out, in]");
    }

    /** A tensor of no elements may have dimensions no int holds (a valid file); inference refuses them by name. */
    @Test
    void dimensionsPastIntFailInOneLine() throws IOException {
        String convIn = LdmFamily.UNET_PREFIX + "input_blocks.0.0.weight";
        Path file = checkpoint("huge.safetensors", s -> s.put(convIn, new long[] {2147483648L, 0, 3, 3}));
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(file)) {
            assertThatThrownBy(ckpt::inferConfigs).isInstanceOf(ConfigException.class)
                    .hasMessage(file + ": '" + convIn + "' has shape [2147483648, 0, 3, 3]: dimension 0 is larger than"
                            + " any model's");
        }
    }

    /** The API opens only regular files (the CLI checked that; the API did not, and blocked forever on a FIFO). */
    @Test
    void aFifoIsRefusedNotWaitedOn() throws Exception {
        Path fifo = dev.unetlens.io.SpecialFiles.fifo(tmp.resolve("pipe.safetensors"));
        try {
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () ->
                    assertThatThrownBy(() -> SingleFileCheckpoint.open(fifo)).isInstanceOf(UnetlensException.class)
                            .hasMessageStartingWith(fifo + ": is a FIFO, device or socket, not a regular file"));
        } finally {
            dev.unetlens.io.SpecialFiles.unblock(fifo);
        }
    }

    /**
     * The VAE's attention kernels become Linear weights only as diffusers makes them: (C, C, 1) and (C, C, 1, 1); one
     * with more trailing ones keeps its shape and fails to load.
     */
    @ParameterizedTest
    @ValueSource(ints = {3, 4, 5, 1023})
    void vaeAttentionKernelsOfRankThreeAndFourOnly(int rank) throws IOException {
        String q = LdmFamily.VAE_PREFIX + "encoder.mid.attn_1.q.weight";
        long[] shape = new long[rank];
        java.util.Arrays.fill(shape, 1);
        shape[0] = 32;
        shape[1] = 32;
        Path file = checkpoint("vae" + rank + ".safetensors", s -> s.put(q, shape));
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(file); NDManager m = NDManager.newBaseManager()) {
            VaeConfig c = VaeConfig.from(ckpt.inferConfigs().json(LdmComponent.VAE));
            if (rank <= 4) {
                assertThat(AutoencoderKL.load(ckpt.component(LdmComponent.VAE), c, m).downscale()).isEqualTo(1);
            } else {
                assertThatThrownBy(() -> AutoencoderKL.load(ckpt.component(LdmComponent.VAE), c, m))
                        .isInstanceOf(WeightsException.class)
                        .hasMessageContaining("wrong shape 1: 'encoder.mid_block.attentions.0.to_q.weight'");
            }
        }
    }
}
