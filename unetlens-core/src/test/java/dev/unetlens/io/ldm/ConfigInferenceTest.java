package dev.unetlens.io.ldm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.config.ConfigException;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.golden.Golden;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static dev.unetlens.io.ldm.LdmKeySets.Text;
import static dev.unetlens.io.ldm.LdmKeySets.Unet;
import static dev.unetlens.io.ldm.LdmKeySets.Vae;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Config inference from keys and shapes alone, on the real key sets of SD 1.5, SD 2.1, SDXL base and refiner
 * (built by {@link LdmKeySets}, no data needed): the configs are the ones diffusers v0.27.2's single-file loader
 * builds for those checkpoints from their yamls. The golden single file checks the output format key for key
 * against configs diffusers saved, and the key-set builder against real files.
 */
class ConfigInferenceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static final Unet SD15_UNET = new Unet(4, 4, 320, new int[] {1, 2, 4, 4}, 2, new int[] {1, 1, 1, 0}, 1, 768, false, 0);
    static final Unet SD21_UNET = new Unet(4, 4, 320, new int[] {1, 2, 4, 4}, 2, new int[] {1, 1, 1, 0}, 1, 1024, true, 0);
    static final Unet XL_UNET = new Unet(4, 4, 320, new int[] {1, 2, 4}, 2, new int[] {0, 2, 10}, 10, 2048, true, 2816);
    static final Unet REFINER_UNET = new Unet(4, 4, 384, new int[] {1, 2, 4, 4}, 2, new int[] {0, 4, 4, 0}, 4, 1280, true, 2560);
    static final Vae SD_VAE = new Vae(3, 3, 128, new int[] {1, 2, 4, 4}, 2, 4);
    static final Text CLIP_L = new Text(768, 12, 3072, 49408, 77, 0);
    static final Text OPENCLIP_H = new Text(1024, 24, 4096, 49408, 77, 1024);
    static final Text OPENCLIP_BIGG = new Text(1280, 32, 5120, 49408, 77, 1280);

    static Map<String, long[]> checkpoint(LdmFamily family, Unet unet, Vae vae, Text te, Text te2) {
        Map<String, long[]> m = new LinkedHashMap<>();
        LdmKeySets.prefixed(m, LdmFamily.UNET_PREFIX, LdmKeySets.unet(unet));
        LdmKeySets.prefixed(m, LdmFamily.VAE_PREFIX, LdmKeySets.vae(vae));
        if (te != null) {
            LdmKeySets.prefixed(m, family.prefix(LdmComponent.TEXT_ENCODER),
                    family == LdmFamily.SD2 ? LdmKeySets.openClip(te) : LdmKeySets.clip(te));
        }
        if (te2 != null) {
            LdmKeySets.prefixed(m, family.prefix(LdmComponent.TEXT_ENCODER_2), LdmKeySets.openClip(te2));
        }
        return m;
    }

    static CheckpointConfigs infer(Map<String, long[]> shapes, LdmFamily expectedFamily) {
        assertThat(LdmFamily.detect(shapes, "test")).isEqualTo(expectedFamily);
        return ConfigInference.infer(expectedFamily, shapes, "test", InferOptions.DIFFUSERS_DEFAULTS);
    }

    /** Every field of {@code expected} (JSON) is in {@code actual} with the same value. */
    static void assertFields(ObjectNode actual, String expected) {
        try {
            JsonNode e = JSON.readTree(expected);
            e.properties().forEach(f -> assertThat(actual.get(f.getKey())).as(f.getKey()).isEqualTo(f.getValue()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException x) {
            throw new AssertionError(x);
        }
    }

    private static final String DDIM = """
            {"_class_name": "DDIMScheduler", "_diffusers_version": "0.27.2", "beta_end": 0.012,
             "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": false, "clip_sample_range": 1.0,
             "dynamic_thresholding_ratio": 0.995, "interpolation_type": "linear", "num_train_timesteps": 1000,
             "prediction_type": "%s", "rescale_betas_zero_snr": false, "sample_max_value": 1.0,
             "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1, "thresholding": false,
             "timestep_spacing": "leading", "trained_betas": null}""";
    private static final String EULER = """
            {"_class_name": "EulerDiscreteScheduler", "_diffusers_version": "0.27.2", "beta_end": 0.012,
             "beta_schedule": "scaled_linear", "beta_start": 0.00085, "interpolation_type": "linear",
             "num_train_timesteps": 1000, "prediction_type": "epsilon", "rescale_betas_zero_snr": false,
             "sample_max_value": 1.0, "set_alpha_to_one": false, "sigma_max": null, "sigma_min": null,
             "skip_prk_steps": true, "steps_offset": 1, "timestep_spacing": "leading", "timestep_type": "discrete",
             "trained_betas": null, "use_karras_sigmas": false}""";

    static JsonNode json(String s) {
        try {
            return JSON.readTree(s);
        } catch (com.fasterxml.jackson.core.JsonProcessingException x) {
            throw new AssertionError(x);
        }
    }

    @Test
    void sd15() {
        CheckpointConfigs c = infer(checkpoint(LdmFamily.SD1, SD15_UNET, SD_VAE, CLIP_L, null), LdmFamily.SD1);
        assertFields(c.unet(), """
                {"block_out_channels": [320, 640, 1280, 1280], "attention_head_dim": 8, "cross_attention_dim": 768,
                 "use_linear_projection": false, "transformer_layers_per_block": 1, "layers_per_block": 2,
                 "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
                 "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
                 "in_channels": 4, "out_channels": 4, "sample_size": 64, "norm_num_groups": 32, "upcast_attention": false,
                 "addition_embed_type": null, "addition_time_embed_dim": null, "projection_class_embeddings_input_dim": null}""");
        assertFields(c.vae(), """
                {"block_out_channels": [128, 256, 512, 512], "layers_per_block": 2, "latent_channels": 4,
                 "in_channels": 3, "out_channels": 3, "norm_num_groups": 32, "sample_size": 512, "scaling_factor": 0.18215}""");
        assertFields(c.textEncoder(), """
                {"architectures": ["CLIPTextModel"], "hidden_size": 768, "num_attention_heads": 12, "num_hidden_layers": 12,
                 "intermediate_size": 3072, "hidden_act": "quick_gelu", "vocab_size": 49408,
                 "max_position_embeddings": 77, "projection_dim": 768}""");
        assertThat(c.textEncoder2()).isNull();
        assertThat(c.scheduler()).isEqualTo(json(DDIM.formatted("epsilon")));
    }

    @Test
    void legacyClipKeysGiveTheSameTextConfig() {
        String te = LdmFamily.SD1.prefix(LdmComponent.TEXT_ENCODER);
        Map<String, long[]> legacy = new LinkedHashMap<>();
        checkpoint(LdmFamily.SD1, SD15_UNET, SD_VAE, CLIP_L, null)
                .forEach((k, v) -> legacy.put(k.replace(te + "text_model.", te), v));
        assertThat(infer(legacy, LdmFamily.SD1).textEncoder())
                .isEqualTo(infer(checkpoint(LdmFamily.SD1, SD15_UNET, SD_VAE, CLIP_L, null), LdmFamily.SD1).textEncoder());
    }

    @Test
    void sd21() {
        CheckpointConfigs c = infer(checkpoint(LdmFamily.SD2, SD21_UNET, SD_VAE, OPENCLIP_H, null), LdmFamily.SD2);
        assertFields(c.unet(), """
                {"block_out_channels": [320, 640, 1280, 1280], "attention_head_dim": [5, 10, 20, 20],
                 "cross_attention_dim": 1024, "use_linear_projection": true, "transformer_layers_per_block": 1,
                 "sample_size": 96, "upcast_attention": false}""");
        assertFields(c.vae(), """
                {"block_out_channels": [128, 256, 512, 512], "sample_size": 768, "scaling_factor": 0.18215}""");
        assertFields(c.textEncoder(), """
                {"architectures": ["CLIPTextModel"], "hidden_size": 1024, "num_attention_heads": 16,
                 "num_hidden_layers": 23, "intermediate_size": 4096, "hidden_act": "gelu", "projection_dim": 512}""");
        assertThat(c.scheduler()).isEqualTo(json(DDIM.formatted("v_prediction")));
        assertThat(String.join(" ", c.notes())).contains("v_prediction", "768", "upcast_attention");
    }

    @Test
    void sdxlBase() {
        CheckpointConfigs c = infer(checkpoint(LdmFamily.SDXL, XL_UNET, SD_VAE, CLIP_L, OPENCLIP_BIGG), LdmFamily.SDXL);
        assertFields(c.unet(), """
                {"block_out_channels": [320, 640, 1280], "attention_head_dim": [5, 10, 20],
                 "transformer_layers_per_block": [1, 2, 10], "cross_attention_dim": 2048, "use_linear_projection": true,
                 "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
                 "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
                 "addition_embed_type": "text_time", "addition_time_embed_dim": 256,
                 "projection_class_embeddings_input_dim": 2816, "sample_size": 128}""");
        assertFields(c.vae(), """
                {"sample_size": 1024, "scaling_factor": 0.13025}""");
        assertFields(c.textEncoder(), """
                {"architectures": ["CLIPTextModel"], "hidden_size": 768, "hidden_act": "quick_gelu", "num_hidden_layers": 12}""");
        assertFields(c.textEncoder2(), """
                {"architectures": ["CLIPTextModelWithProjection"], "hidden_size": 1280, "num_attention_heads": 20,
                 "num_hidden_layers": 32, "intermediate_size": 5120, "hidden_act": "gelu", "projection_dim": 1280}""");
        assertThat(c.scheduler()).isEqualTo(json(EULER));
    }

    @Test
    void sdxlRefiner() {
        CheckpointConfigs c = infer(checkpoint(LdmFamily.SDXL_REFINER, REFINER_UNET, SD_VAE, null, OPENCLIP_BIGG),
                LdmFamily.SDXL_REFINER);
        assertFields(c.unet(), """
                {"block_out_channels": [384, 768, 1536, 1536], "attention_head_dim": [6, 12, 24, 24],
                 "transformer_layers_per_block": 4, "cross_attention_dim": 1280,
                 "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
                 "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
                 "addition_embed_type": "text_time", "addition_time_embed_dim": 256,
                 "projection_class_embeddings_input_dim": 2560, "sample_size": 128}""");
        assertThat(c.textEncoder()).isNull();
        assertFields(c.textEncoder2(), """
                {"architectures": ["CLIPTextModelWithProjection"], "hidden_size": 1280, "num_hidden_layers": 32}""");
        assertThat(c.scheduler()).isEqualTo(json(EULER));
    }

    @Test
    void unetOnlyFilesFallBackOnTheUnet() {
        Map<String, long[]> sd2 = LdmKeySets.prefixed(new LinkedHashMap<>(), LdmFamily.UNET_PREFIX, LdmKeySets.unet(SD21_UNET));
        Map<String, long[]> sd1 = LdmKeySets.prefixed(new LinkedHashMap<>(), LdmFamily.UNET_PREFIX, LdmKeySets.unet(SD15_UNET));
        Map<String, long[]> xl = LdmKeySets.prefixed(new LinkedHashMap<>(), LdmFamily.UNET_PREFIX, LdmKeySets.unet(XL_UNET));
        Map<String, long[]> refiner = LdmKeySets.prefixed(new LinkedHashMap<>(), LdmFamily.UNET_PREFIX, LdmKeySets.unet(REFINER_UNET));
        assertThat(LdmFamily.detect(sd1, "t")).isEqualTo(LdmFamily.SD1);
        assertThat(LdmFamily.detect(sd2, "t")).isEqualTo(LdmFamily.SD2);
        assertThat(LdmFamily.detect(xl, "t")).isEqualTo(LdmFamily.SDXL);
        assertThat(LdmFamily.detect(refiner, "t")).isEqualTo(LdmFamily.SDXL_REFINER);
        CheckpointConfigs c = ConfigInference.infer(LdmFamily.SDXL, xl, "t", InferOptions.DIFFUSERS_DEFAULTS);
        assertThat(c.vae()).isNull();
        assertFields(c.unet(), """
                {"addition_time_embed_dim": 256, "sample_size": 128}""");   // no VAE: LDM's factor 8; no projection: 256
    }

    /**
     * The key-set builder reproduces real files from their diffusers configs: the golden single files, the SDXL-like
     * models. A model whose level channels are not multiples of the first level's cannot be written in LDM's
     * {@code channel_mult} terms at all: a stated skip for that model alone.
     */
    @TestFactory
    Stream<DynamicTest> keySetsMatchRealFiles() {
        List<DynamicTest> tests = new ArrayList<>();
        for (GoldenSingleFiles f : GoldenSingleFiles.all()) {
            tests.add(DynamicTest.dynamicTest(f.label(), () -> {
                skipUnlessLdmCanExpress(f.model());
                try (SingleFileCheckpoint ckpt = f.open()) {
                    Map<String, long[]> built = checkpoint(LdmFamily.SD1, unetSpec(f.model()), vaeSpec(f.model()),
                            textSpec(f.model(), "text_encoder"), null);
                    assertSameShapes(built, ckpt.shapes());
                }
            }));
        }
        for (String model : GoldenFamilies.xl()) {
            tests.add(DynamicTest.dynamicTest(model, () -> {
                skipUnlessLdmCanExpress(model);
                Map<String, long[]> xl = new LinkedHashMap<>();
                LdmBlobs.unet(RoundTripTest.folderBlobs(model, "unet")).forEach((k, v) -> xl.put(k, v.shape()));
                assertSameShapes(LdmKeySets.unet(unetSpec(model)), xl);
                Map<String, long[]> te2 = new LinkedHashMap<>();
                LdmBlobs.openClip(RoundTripTest.folderBlobs(model, "text_encoder_2")).forEach((k, v) -> te2.put(k, v.shape()));
                Map<String, long[]> builtTe2 = LdmKeySets.openClip(textSpec(model, "text_encoder_2"));
                builtTe2.remove("logit_scale");   // a tensor of OpenCLIP that transformers' model does not have
                assertSameShapes(builtTe2, te2);
            }));
        }
        return tests.stream();
    }

    /**
     * Every golden model whose level channels LDM cannot express (tiny-sd15-odd: 24, 40, 40, 56), written in LDM's
     * key names: the inference refuses it in one line naming the field and the channels, for the U-Net and the VAE.
     */
    @TestFactory
    Stream<DynamicTest> inferenceRefusesWhatLdmCannotExpress() {
        Golden g = Golden.get();
        return g.models().stream().filter(m -> !ldmExpressible(m, "unet") || !ldmExpressible(m, "vae"))
                .map(model -> DynamicTest.dynamicTest(model, () -> {
                    if (!ldmExpressible(model, "unet")) {
                        Map<String, long[]> unet = new LinkedHashMap<>();
                        LdmBlobs.unet(RoundTripTest.folderBlobs(model, "unet")).forEach((k, v) -> unet.put(k, v.shape()));
                        assertThatThrownBy(() -> UnetConfigInference.unet(new ShapeKeys(unet, "", model), LdmFamily.SD1, 64, false))
                                .isInstanceOf(ConfigException.class).hasMessageContaining("block_out_channels")
                                .hasMessageContaining("channel_mult cannot express").hasMessageNotContaining("\n");
                    }
                    if (!ldmExpressible(model, "vae")) {
                        Map<String, long[]> vae = new LinkedHashMap<>();
                        LdmBlobs.vae(RoundTripTest.folderBlobs(model, "vae")).forEach((k, v) -> vae.put(k, v.shape()));
                        assertThatThrownBy(() -> ConfigInference.vae(new ShapeKeys(vae, "", model), LdmFamily.SD1, 512))
                                .isInstanceOf(ConfigException.class).hasMessageContaining("VAE's level channels")
                                .hasMessageContaining("channel_mult cannot express");
                    }
                }));
    }

    /** Whether a component's block_out_channels are all multiples of the first (LDM's channel_mult can say them). */
    static boolean ldmExpressible(String model, String component) {
        List<Integer> channels = JsonConfig.read(Golden.get().path("models/" + model + "/" + component + "/config.json"))
                .intList("block_out_channels", List.of(1));
        return channels.stream().allMatch(c -> c % channels.getFirst() == 0);
    }

    private static void skipUnlessLdmCanExpress(String model) {
        for (String component : List.of("unet", "vae")) {
            Assumptions.assumeTrue(ldmExpressible(model, component), () -> model + "'s " + component
                    + " block_out_channels are not multiples of the first level's: the LDM layout cannot express it"
                    + " (inferenceRefusesWhatLdmCannotExpress checks that it is refused)");
        }
    }

    /**
     * The output format is diffusers' and transformers': inferred from the golden single file with LDM's rules,
     * the U-Net and VAE configs equal the configs diffusers saved for tiny-sd15 except where tiny-sd15 breaks LDM's
     * rules (8 GroupNorm groups, 2 heads, 16-pixel latents: README §15); the text config, inferred from a 64-wide
     * tower, has the saved config's every other field. The tiny text encoder itself (32 wide) cannot be inferred.
     */
    @Test
    void formatIsDiffusersAndTransformers() {
        GoldenSingleFiles f = GoldenSingleFiles.all().getFirst();
        try (SingleFileCheckpoint ckpt = f.open()) {
            String dir = "models/" + f.model() + "/";
            ObjectNode unet = golden(dir + "unet/config.json");
            unet.put("attention_head_dim", 8).put("norm_num_groups", 32).put("sample_size", 64);
            assertThat(UnetConfigInference.unet(new ShapeKeys(ckpt.shapes(), LdmFamily.UNET_PREFIX, "t"),
                    LdmFamily.SD1, 64, false)).isEqualTo(unet);
            ObjectNode vae = golden(dir + "vae/config.json");
            vae.put("norm_num_groups", 32).put("sample_size", 512);
            assertThat(ConfigInference.vae(new ShapeKeys(ckpt.shapes(), LdmFamily.VAE_PREFIX, "t"),
                    LdmFamily.SD1, 512)).isEqualTo(vae);
            assertThatThrownBy(ckpt::inferConfigs)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("cannot infer num_attention_heads from the weights: text width 32")
                    .hasMessageContaining("pass the diffusers configs explicitly")
                    .hasMessageNotContaining("\n");

            Text text = new Text(64, 3, 80, 1000, 77, 0);
            Map<String, long[]> shapes = LdmKeySets.prefixed(new LinkedHashMap<>(), "p.", LdmKeySets.clip(text));
            ObjectNode te = golden(dir + "text_encoder/config.json");
            te.put("hidden_size", 64).put("num_attention_heads", 1).put("num_hidden_layers", 3)
                    .put("intermediate_size", 80).put("vocab_size", 1000).put("projection_dim", 768);
            assertThat(TextConfigInference.clip(new ShapeKeys(shapes, "p.", "t"))).isEqualTo(te);
        }
    }

    private static ObjectNode golden(String file) {
        return (ObjectNode) Golden.get().json(file);
    }

    private static void assertSameShapes(Map<String, long[]> actual, Map<String, long[]> expected) {
        assertThat(new TreeSet<>(actual.keySet())).isEqualTo(new TreeSet<>(expected.keySet()));
        expected.forEach((k, v) -> assertThat(actual.get(k)).as(k).isEqualTo(v));
    }

    /** The LDM architecture numbers of a golden diffusers U-Net config. */
    static Unet unetSpec(String model) {
        JsonConfig c = JsonConfig.read(Golden.get().path("models/" + model + "/unet/config.json"));
        List<Integer> channels = c.intList("block_out_channels", null);
        List<String> down = c.stringList("down_block_types", null);
        List<Integer> depth = c.intOrList("transformer_layers_per_block", 1, channels.size());
        int mc = channels.getFirst();
        int[] mult = channels.stream().mapToInt(ch -> ch / mc).toArray();
        int[] levels = new int[channels.size()];
        for (int i = 0; i < levels.length; i++) {
            levels[i] = down.get(i).startsWith("CrossAttn") ? depth.get(i) : 0;
        }
        return new Unet(c.integer("in_channels", 4), c.integer("out_channels", 4), mc, mult,
                c.integer("layers_per_block", 2), levels, depth.getLast(), c.integer("cross_attention_dim", 0),
                c.bool("use_linear_projection", false), c.integer("projection_class_embeddings_input_dim", 0));
    }

    static Vae vaeSpec(String model) {
        JsonConfig c = JsonConfig.read(Golden.get().path("models/" + model + "/vae/config.json"));
        List<Integer> channels = c.intList("block_out_channels", null);
        int ch = channels.getFirst();
        return new Vae(c.integer("in_channels", 3), c.integer("out_channels", 3), ch,
                channels.stream().mapToInt(x -> x / ch).toArray(), c.integer("layers_per_block", 1),
                c.integer("latent_channels", 4));
    }

    static Text textSpec(String model, String component) {
        JsonConfig c = JsonConfig.read(Golden.get().path("models/" + model + "/" + component + "/config.json"));
        boolean projection = c.stringList("architectures", List.of()).contains("CLIPTextModelWithProjection");
        return new Text(c.integer("hidden_size", 0), c.integer("num_hidden_layers", 0), c.integer("intermediate_size", 0),
                c.integer("vocab_size", 0), c.integer("max_position_embeddings", 77),
                projection ? c.integer("projection_dim", 0) : 0);
    }
}
