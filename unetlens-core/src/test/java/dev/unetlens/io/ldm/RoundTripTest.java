package dev.unetlens.io.ldm;

import ai.djl.ndarray.NDManager;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.DType;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.TensorSource;
import dev.unetlens.io.WeightFiles;
import dev.unetlens.model.WeightsException;
import dev.unetlens.model.clip.ClipTextModel;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * Golden diffusers folders converted into LDM naming by the project's inverse ({@link DiffusersToLdm}, which
 * {@code unetlens convert} writes with) and mapped back by {@link SingleFileCheckpoint} come back bit-identical,
 * component by component: tiny-sdxl as an
 * SDXL base file (OpenCLIP text_encoder_2: the q/k/v split and the projection's transpose, label_emb, 3 levels with
 * the upsampler behind an attention), tiny-sd21v as an SD 2.x file (OpenCLIP without projection, the dropped last
 * layer). Real files' extras are ignored with a reason; unknown keys stay visible and make loading fail. The
 * inverse itself is checked against the golden single file, which diffusers' own script made.
 */
class RoundTripTest {
    @TempDir
    Path tmp;

    static Map<String, Blob> folderBlobs(String model, String component) {
        DiffusersFolder folder = DiffusersFolder.open(Golden.get().path("models/" + model));
        try (TensorSource src = folder.openWeights(component, null)) {
            return Blob.readAll(src);
        }
    }

    @Test
    void inverseReproducesTheGoldenSingleFile() {
        for (GoldenSingleFiles f : GoldenSingleFiles.all()) {
            if (f.variant() != null) {
                continue;
            }
            Map<String, Blob> ldm = new LinkedHashMap<>();
            LdmBlobs.prefixed(ldm, LdmFamily.UNET_PREFIX, LdmBlobs.unet(folderBlobs(f.model(), "unet")));
            LdmBlobs.prefixed(ldm, LdmFamily.VAE_PREFIX, LdmBlobs.vae(folderBlobs(f.model(), "vae")));
            LdmBlobs.prefixed(ldm, LdmFamily.SD1.prefix(LdmComponent.TEXT_ENCODER), folderBlobs(f.model(), "text_encoder"));
            try (TensorSource golden = WeightFiles.open(Golden.get().use(f.file()))) {
                assertSameTensors(ldm, Blob.readAll(golden), f.file());
            }
        }
    }

    /** SD 1.x files whose CLIP keys lack {@code text_model.} (older transformers) read as A1111 and kohya read them. */
    @Test
    void legacyClipKeysGetTheirTextModelLevel() throws IOException {
        GoldenSingleFiles f = GoldenSingleFiles.all().getFirst();
        String te = LdmFamily.SD1.prefix(LdmComponent.TEXT_ENCODER);
        Map<String, Blob> legacy = new LinkedHashMap<>();
        try (TensorSource golden = WeightFiles.open(Golden.get().use(f.file()))) {
            Blob.readAll(golden).forEach((k, v) -> legacy.put(k.replace(te + "text_model.", te), v));
        }
        legacy.put(te + "embeddings.position_ids", new Blob(DType.I64, new long[] {1, 77}, new byte[77 * 8]));
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(TestSafetensors.write(tmp.resolve("nai.safetensors"), legacy));
             SingleFileCheckpoint original = f.open()) {
            assertThat(ckpt.shapes().keySet()).anyMatch(k -> k.startsWith(te + "encoder.layers."));
            assertSameTensors(Blob.readAll(ckpt.component(LdmComponent.TEXT_ENCODER)),
                    Blob.readAll(original.component(LdmComponent.TEXT_ENCODER)), "text_encoder");
            assertThat(ckpt.ignored().keySet()).containsExactly(te + "embeddings.position_ids");
            assertThat(ckpt.unrecognized()).isEmpty();
        }
    }

    @TestFactory
    Stream<DynamicTest> sdxlRoundTripIsBitIdentical() {
        return GoldenFamilies.xl().stream().map(m -> DynamicTest.dynamicTest(m, () -> sdxlRoundTrip(m)));
    }

    private void sdxlRoundTrip(String model) throws IOException {
        Map<String, Blob> ldm = new LinkedHashMap<>();
        LdmBlobs.prefixed(ldm, LdmFamily.UNET_PREFIX, LdmBlobs.unet(folderBlobs(model, "unet")));
        LdmBlobs.prefixed(ldm, LdmFamily.VAE_PREFIX, LdmBlobs.vae(folderBlobs(model, "vae")));
        String te1 = LdmFamily.SDXL.prefix(LdmComponent.TEXT_ENCODER);
        String te2 = LdmFamily.SDXL.prefix(LdmComponent.TEXT_ENCODER_2);
        LdmBlobs.prefixed(ldm, te1, folderBlobs(model, "text_encoder"));
        LdmBlobs.prefixed(ldm, te2, LdmBlobs.openClip(folderBlobs(model, "text_encoder_2")));
        Map<String, Blob> extras = new LinkedHashMap<>();
        extras.put(te1 + ClipKeyMap.POSITION_IDS, new Blob(DType.I64, new long[] {1, 77}, new byte[77 * 8]));
        extras.put(te2 + "logit_scale", Blob.random(DType.F32, new long[] {}, 1));
        extras.put("alphas_cumprod", Blob.random(DType.F32, new long[] {1000}, 2));
        extras.put("model_ema.decay", Blob.random(DType.F32, new long[] {}, 3));
        extras.put("model_ema.diffusion_modelinput_blocks00weight", ldm.get(LdmFamily.UNET_PREFIX + "input_blocks.0.0.weight"));
        extras.put("denoiser.sigmas", Blob.random(DType.F32, new long[] {1000}, 4));
        ldm.putAll(extras);

        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(TestSafetensors.write(tmp.resolve("xl.safetensors"), ldm))) {
            assertThat(ckpt.family()).isEqualTo(LdmFamily.SDXL);
            assertThat(ckpt.components()).containsExactly(LdmComponent.values());
            for (LdmComponent c : LdmComponent.values()) {
                assertSameTensors(Blob.readAll(ckpt.component(c)), folderBlobs(model, c.folder()), c.folder());
            }
            assertThat(ckpt.ignored().keySet()).containsExactlyInAnyOrderElementsOf(extras.keySet());
            assertThat(ckpt.ignored().values()).allSatisfy(reason -> assertThat(reason).isNotBlank());
            assertThat(ckpt.unrecognized()).isEmpty();
            assertThat(ckpt.fileKey(LdmComponent.TEXT_ENCODER_2, "text_model.encoder.layers.1.self_attn.v_proj.weight"))
                    .isEqualTo(te2 + "transformer.resblocks.1.attn.in_proj_weight");
        }
    }

    @TestFactory
    Stream<DynamicTest> sd2RoundTripDropsTheLastTextLayerAndTheProjection() {
        return GoldenFamilies.sd2().stream().map(m -> DynamicTest.dynamicTest(m, () -> sd2RoundTrip(m)));
    }

    private void sd2RoundTrip(String model) throws IOException {
        String te = LdmFamily.SD2.prefix(LdmComponent.TEXT_ENCODER);
        Map<String, Blob> ldm = new LinkedHashMap<>();
        LdmBlobs.prefixed(ldm, LdmFamily.UNET_PREFIX, LdmBlobs.unet(folderBlobs(model, "unet")));
        LdmBlobs.prefixed(ldm, LdmFamily.VAE_PREFIX, LdmBlobs.vae(folderBlobs(model, "vae")));
        Map<String, Blob> text = LdmBlobs.openClip(folderBlobs(model, "text_encoder"));
        LdmBlobs.prefixed(ldm, te, text);
        // the tower's last resblock, which SD 2.x never uses, and the projection: same shapes as real files have
        int layers = OpenClipKeyMap.lastResblock(text) + 1;
        Map<String, Blob> dropped = new LinkedHashMap<>();
        text.forEach((k, v) -> {
            if (k.startsWith("transformer.resblocks.0.")) {
                dropped.put(te + k.replace("resblocks.0.", "resblocks." + layers + "."), Blob.random(v.dtype(), v.shape(), k.hashCode()));
            }
        });
        long d = text.get("token_embedding.weight").shape()[1];
        dropped.put(te + "text_projection", Blob.random(DType.F32, new long[] {d, d}, 5));
        dropped.put(te + "logit_scale", Blob.random(DType.F32, new long[] {}, 6));
        ldm.putAll(dropped);

        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(TestSafetensors.write(tmp.resolve("v.safetensors"), ldm))) {
            assertThat(ckpt.family()).isEqualTo(LdmFamily.SD2);
            assertThat(ckpt.components()).containsExactly(LdmComponent.UNET, LdmComponent.VAE, LdmComponent.TEXT_ENCODER);
            for (LdmComponent c : ckpt.components()) {
                assertSameTensors(Blob.readAll(ckpt.component(c)), folderBlobs(model, c.folder()), c.folder());
            }
            assertThat(ckpt.ignored().keySet()).containsExactlyInAnyOrderElementsOf(dropped.keySet());
            assertThat(ckpt.unrecognized()).isEmpty();
        }
    }

    @TestFactory
    Stream<DynamicTest> unknownKeysStayVisibleAndFailTheLoad() {
        return GoldenFamilies.xl().stream().map(m -> DynamicTest.dynamicTest(m, () -> unknownKeys(m)));
    }

    private void unknownKeys(String model) throws IOException {
        String te1 = LdmFamily.SDXL.prefix(LdmComponent.TEXT_ENCODER);
        String te2 = LdmFamily.SDXL.prefix(LdmComponent.TEXT_ENCODER_2);
        Map<String, Blob> ldm = new LinkedHashMap<>();
        LdmBlobs.prefixed(ldm, LdmFamily.UNET_PREFIX, LdmBlobs.unet(folderBlobs(model, "unet")));
        LdmBlobs.prefixed(ldm, te1, folderBlobs(model, "text_encoder"));
        LdmBlobs.prefixed(ldm, te2, LdmBlobs.openClip(folderBlobs(model, "text_encoder_2")));
        Blob small = Blob.random(DType.F32, new long[] {2}, 7);
        Map<String, Blob> unknown = new LinkedHashMap<>();
        unknown.put(LdmFamily.UNET_PREFIX + "controlnet_extra.weight", small);
        unknown.put(LdmFamily.UNET_PREFIX + "middle_block.3.weight", small);
        unknown.put(te2 + "transformer.resblocks.0.attn.extra_bias", small);
        unknown.put("some_lora.alpha", small);
        ldm.putAll(unknown);
        ldm.put(te1 + "text_model.extra_norm.weight", small);   // mapped by prefix removal, unknown to the model

        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(TestSafetensors.write(tmp.resolve("u.safetensors"), ldm))) {
            assertThat(ckpt.unrecognized()).containsExactlyInAnyOrderElementsOf(unknown.keySet());
            assertThat(ckpt.component(LdmComponent.UNET).names())
                    .contains("controlnet_extra.weight", "middle_block.3.weight", "some_lora.alpha");
            assertThat(ckpt.component(LdmComponent.TEXT_ENCODER_2).names())
                    .contains("transformer.resblocks.0.attn.extra_bias");
            assertThat(ckpt.has(LdmComponent.VAE)).isFalse();
            assertThatThrownBy(() -> ckpt.component(LdmComponent.VAE))
                    .hasMessageContaining("no vae").hasMessageNotContaining("\n");
            DiffusersFolder folder = DiffusersFolder.open(Golden.get().path("models/" + model));
            try (NDManager m = NDManager.newBaseManager()) {
                assertThatThrownBy(() -> ClipTextModel.load(ckpt.component(LdmComponent.TEXT_ENCODER),
                        ClipTextConfig.read(folder.config("text_encoder")), m))
                        .isInstanceOf(WeightsException.class)
                        .hasMessageContaining("unexpected 1: 'text_model.extra_norm.weight'");
                assertThatThrownBy(() -> ClipTextModel.load(ckpt.component(LdmComponent.TEXT_ENCODER_2),
                        ClipTextConfig.read(folder.config("text_encoder_2")), m))
                        .isInstanceOf(WeightsException.class)
                        .hasMessageContaining("unexpected 1: 'transformer.resblocks.0.attn.extra_bias'");
            }
        }
    }

    /** Same names, dtypes, shapes and bytes. */
    static void assertSameTensors(Map<String, Blob> actual, Map<String, Blob> expected, String what) {
        assertThat(new TreeSet<>(actual.keySet())).as(what + " keys").isEqualTo(new TreeSet<>(expected.keySet()));
        for (Map.Entry<String, Blob> e : expected.entrySet()) {
            Blob a = actual.get(e.getKey());
            Blob x = e.getValue();
            assertThat(a.dtype()).as(e.getKey() + " dtype").isEqualTo(x.dtype());
            assertThat(a.shape()).as(e.getKey() + " shape").isEqualTo(x.shape());
            if (!Arrays.equals(a.data(), x.data())) {
                fail(what + ": " + e.getKey() + " differs first at byte " + Arrays.mismatch(a.data(), x.data()));
            }
        }
    }
}
