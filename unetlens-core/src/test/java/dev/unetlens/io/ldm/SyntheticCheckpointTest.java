package dev.unetlens.io.ldm;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.io.DType;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.vae.AutoencoderKL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.unetlens.io.ldm.ConfigInferenceTest.assertFields;
import static dev.unetlens.io.ldm.LdmKeySets.Text;
import static dev.unetlens.io.ldm.LdmKeySets.Unet;
import static dev.unetlens.io.ldm.LdmKeySets.Vae;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checkpoints the test writes with the real SD 1.5 / SD 2.1 / SDXL base / refiner key sets, scaled down (64-wide
 * model channels so that SD 2.x/XL keep whole 64-wide heads, small vocabularies) and filled with random fp16
 * values: the family is detected, every tensor is mapped or a known extra, the configs are what diffusers' rules
 * give for those shapes, and the text encoders and VAE load into unetlens' models with the inferred configs, which
 * fails on any missing, extra or wrongly shaped tensor.
 */
class SyntheticCheckpointTest {
    private static final Vae VAE = new Vae(3, 3, 32, new int[] {1, 2, 2, 2}, 2, 4);
    private static final Text CLIP = new Text(64, 2, 96, 1000, 77, 0);

    @TempDir
    Path tmp;

    private Path write(String name, LdmFamily family, Unet unet, Text te, Text te2) throws IOException {
        Map<String, long[]> shapes = ConfigInferenceTest.checkpoint(family, unet, VAE, te, te2);
        Map<String, Blob> tensors = new LinkedHashMap<>();
        long seed = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            tensors.put(e.getKey(), Blob.random(DType.F16, e.getValue(), seed++));
        }
        return TestSafetensors.write(tmp.resolve(name), tensors);
    }

    /** Loads every text encoder and the VAE with the inferred configs (strict: Weights.verify). */
    private static void loadsWithInferredConfigs(SingleFileCheckpoint ckpt, CheckpointConfigs configs) {
        try (NDManager m = NDManager.newBaseManager()) {
            for (LdmComponent c : new LdmComponent[] {LdmComponent.TEXT_ENCODER, LdmComponent.TEXT_ENCODER_2}) {
                if (ckpt.has(c)) {
                    ClipTextModel model = ClipTextModel.load(ckpt.component(c), ClipTextConfig.from(configs.json(c)), m);
                    assertThat(model.config().layers()).isPositive();
                }
            }
            AutoencoderKL vae = AutoencoderKL.load(ckpt.component(LdmComponent.VAE),
                    VaeConfig.from(configs.json(LdmComponent.VAE)), m);
            assertThat(vae.downscale()).isEqualTo(8);
        }
    }

    @Test
    void sd15() throws IOException {
        Unet unet = new Unet(4, 4, 64, new int[] {1, 1, 2, 2}, 2, new int[] {1, 1, 1, 0}, 1, 64, false, 0);
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(write("sd15.safetensors", LdmFamily.SD1, unet, CLIP, null))) {
            assertThat(ckpt.family()).isEqualTo(LdmFamily.SD1);
            assertThat(ckpt.components()).containsExactly(LdmComponent.UNET, LdmComponent.VAE, LdmComponent.TEXT_ENCODER);
            assertThat(ckpt.ignored()).isEmpty();
            assertThat(ckpt.unrecognized()).isEmpty();
            CheckpointConfigs c = ckpt.inferConfigs();
            assertFields(c.unet(), """
                    {"block_out_channels": [64, 64, 128, 128], "attention_head_dim": 8, "cross_attention_dim": 64,
                     "use_linear_projection": false, "transformer_layers_per_block": 1, "sample_size": 64}""");
            assertFields(c.vae(), """
                    {"block_out_channels": [32, 64, 64, 64], "layers_per_block": 2, "sample_size": 512}""");
            assertFields(c.textEncoder(), """
                    {"hidden_size": 64, "num_attention_heads": 1, "num_hidden_layers": 2, "intermediate_size": 96,
                     "vocab_size": 1000, "hidden_act": "quick_gelu"}""");
            assertThat(c.scheduler().get("prediction_type").asText()).isEqualTo("epsilon");
            assertThat(ckpt.component(LdmComponent.UNET).names()).hasSize(ckpt.shapes().keySet().stream()
                    .filter(k -> k.startsWith(LdmFamily.UNET_PREFIX)).toList().size());
            loadsWithInferredConfigs(ckpt, c);
        }
    }

    @Test
    void sd21() throws IOException {
        Unet unet = new Unet(4, 4, 64, new int[] {1, 1, 2, 2}, 2, new int[] {1, 1, 1, 0}, 1, 128, true, 0);
        Text openClip = new Text(128, 3, 192, 1000, 77, 64);
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(write("sd21.safetensors", LdmFamily.SD2, unet, openClip, null))) {
            assertThat(ckpt.family()).isEqualTo(LdmFamily.SD2);
            String te = ckpt.prefix(LdmComponent.TEXT_ENCODER);
            assertThat(ckpt.ignored().keySet()).contains(te + "text_projection", te + "logit_scale",
                    te + "transformer.resblocks.2.attn.in_proj_weight").hasSize(2 + 12);
            assertThat(ckpt.unrecognized()).isEmpty();
            CheckpointConfigs c = ckpt.inferConfigs();
            assertFields(c.unet(), """
                    {"attention_head_dim": [1, 1, 2, 2], "cross_attention_dim": 128, "use_linear_projection": true,
                     "sample_size": 96, "upcast_attention": false}""");
            assertFields(c.textEncoder(), """
                    {"architectures": ["CLIPTextModel"], "hidden_size": 128, "num_attention_heads": 2,
                     "num_hidden_layers": 2, "hidden_act": "gelu"}""");
            assertThat(c.scheduler().get("prediction_type").asText()).isEqualTo("v_prediction");
            assertThat(c.notes()).hasSize(3);
            loadsWithInferredConfigs(ckpt, c);

            CheckpointConfigs base = ckpt.inferConfigs(new InferOptions("epsilon", 512, true));
            assertFields(base.unet(), """
                    {"sample_size": 64, "upcast_attention": true}""");
            assertFields(base.vae(), """
                    {"sample_size": 512}""");
            assertThat(base.scheduler().get("prediction_type").asText()).isEqualTo("epsilon");
            assertThat(base.notes()).isEmpty();
        }
    }

    @Test
    void sdxlBase() throws IOException {
        Text bigG = new Text(128, 3, 192, 1000, 77, 96);
        Unet unet = new Unet(4, 4, 64, new int[] {1, 2, 2}, 2, new int[] {0, 2, 3}, 3, 64 + 128, true, 96 + 6 * 16);
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(write("xl.safetensors", LdmFamily.SDXL, unet, CLIP, bigG))) {
            assertThat(ckpt.family()).isEqualTo(LdmFamily.SDXL);
            assertThat(ckpt.components()).containsExactly(LdmComponent.values());
            assertThat(ckpt.ignored().keySet()).containsExactly(ckpt.prefix(LdmComponent.TEXT_ENCODER_2) + "logit_scale");
            assertThat(ckpt.unrecognized()).isEmpty();
            CheckpointConfigs c = ckpt.inferConfigs();
            assertFields(c.unet(), """
                    {"block_out_channels": [64, 128, 128], "attention_head_dim": [1, 2, 2],
                     "transformer_layers_per_block": [1, 2, 3], "cross_attention_dim": 192,
                     "addition_embed_type": "text_time", "addition_time_embed_dim": 16,
                     "projection_class_embeddings_input_dim": 192, "sample_size": 128}""");
            assertFields(c.vae(), """
                    {"scaling_factor": 0.13025, "sample_size": 1024}""");
            assertFields(c.textEncoder2(), """
                    {"architectures": ["CLIPTextModelWithProjection"], "projection_dim": 96, "num_hidden_layers": 3}""");
            assertThat(c.scheduler().get("_class_name").asText()).isEqualTo("EulerDiscreteScheduler");
            assertThat(ckpt.component(LdmComponent.UNET).info("add_embedding.linear_1.weight").orElseThrow().shape())
                    .containsExactly(256, 192);
            loadsWithInferredConfigs(ckpt, c);
        }
    }

    @Test
    void sdxlRefiner() throws IOException {
        Text bigG = new Text(128, 2, 192, 1000, 77, 128);
        Unet unet = new Unet(4, 4, 64, new int[] {1, 2, 2, 2}, 2, new int[] {0, 2, 2, 0}, 2, 128, true, 128 + 5 * 16);
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(write("refiner.safetensors", LdmFamily.SDXL_REFINER,
                unet, null, bigG))) {
            assertThat(ckpt.family()).isEqualTo(LdmFamily.SDXL_REFINER);
            assertThat(ckpt.components()).containsExactly(LdmComponent.UNET, LdmComponent.VAE, LdmComponent.TEXT_ENCODER_2);
            assertThat(ckpt.unrecognized()).isEmpty();
            CheckpointConfigs c = ckpt.inferConfigs();
            assertFields(c.unet(), """
                    {"attention_head_dim": [1, 2, 2, 2], "transformer_layers_per_block": 2,
                     "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
                     "addition_time_embed_dim": 16, "projection_class_embeddings_input_dim": 208}""");
            assertThat(c.textEncoder()).isNull();
            loadsWithInferredConfigs(ckpt, c);
        }
    }

    @Test
    void inferredConfigsAreWrittenWithTheOutputs() throws IOException {
        Unet unet = new Unet(4, 4, 64, new int[] {1, 1, 2, 2}, 2, new int[] {1, 1, 1, 0}, 1, 128, true, 0);
        Text openClip = new Text(128, 2, 192, 1000, 77, 64);
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(write("w.safetensors", LdmFamily.SD2, unet, openClip, null))) {
            CheckpointConfigs c = ckpt.inferConfigs();
            OutputDirectory out = OutputDirectory.open(tmp.resolve("run"), "extract", false);
            c.writeTo(out, "model");
            ObjectMapper json = new ObjectMapper();
            for (Map.Entry<String, com.fasterxml.jackson.databind.node.ObjectNode> f : c.files().entrySet()) {
                assertThat(json.readTree(Files.readString(tmp.resolve("run/model/" + f.getKey())))).isEqualTo(f.getValue());
            }
            assertThat(c.files().keySet()).containsExactly("unet/config.json", "vae/config.json",
                    "text_encoder/config.json", "scheduler/scheduler_config.json");
            JsonNode manifest = json.readTree(Files.readString(tmp.resolve("run/manifest.json")));
            assertThat(manifest.get("files")).hasSize(4);
            assertThat(manifest.get("files").get(0).get("file").asText()).isEqualTo("model/unet/config.json");
            assertThat(manifest.get("files").get(3).get("notes")).hasSize(3);
        }
    }
}
