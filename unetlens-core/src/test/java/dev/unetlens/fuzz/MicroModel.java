package dev.unetlens.fuzz;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.io.DType;
import dev.unetlens.io.SafetensorsWriter;
import dev.unetlens.io.ldm.LdmFamily;
import dev.unetlens.io.ldm.MicroCheckpoints;
import dev.unetlens.model.Weights;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.unet.UNet2DConditionModel;
import dev.unetlens.model.vae.AutoencoderKL;
import dev.unetlens.tokenizer.ClipVocab;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.zip.GZIPOutputStream;

/**
 * The valid inputs the fuzz test mutates, as small as the loaders allow so that thousands of cases take seconds: a
 * diffusers folder (an SD 1.x-shaped pipeline with 8–16 channels, a 714-token vocabulary, random weights) and
 * single-file checkpoints in LDM naming for SD 1.x, SD 2.x and SDXL, written once per run.
 */
final class MicroModel {
    /** Every file of the folder that a loader reads, relative to it. */
    static final List<String> FILES = List.of("model_index.json",
            "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
            "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
            "text_encoder/config.json", "text_encoder/model.safetensors",
            "tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer/tokenizer_config.json",
            "tokenizer/special_tokens_map.json", "scheduler/scheduler_config.json");
    /** The merges of the micro vocabulary: the first ones of CLIP's. */
    private static final int MERGES = 200;

    final Path folder;
    final Map<LdmFamily, StFile> singleFiles = new EnumMap<>(LdmFamily.class);

    private MicroModel(Path folder) {
        this.folder = folder;
    }

    static MicroModel create(Path dir) throws IOException {
        MicroModel m = new MicroModel(dir.resolve("micro"));
        m.writeFolder();
        long seed = 1;
        for (LdmFamily f : List.of(LdmFamily.SD1, LdmFamily.SD2, LdmFamily.SDXL)) {
            m.singleFiles.put(f, randomCheckpoint(MicroCheckpoints.shapes(f), seed++));
        }
        return m;
    }

    Path file(String relative) {
        return folder.resolve(relative);
    }

    /**
     * The folder again under {@code dest}, each file a link to the base file, except {@code except} (relative; null
     * for none), which the case writes itself.
     */
    Path linkFolder(Path dest, String except) throws IOException {
        for (String f : FILES) {
            if (!f.equals(except)) {
                Path target = dest.resolve(f);
                Files.createDirectories(target.getParent());
                Files.createSymbolicLink(target, file(f));
            }
        }
        return dest;
    }

    /**
     * Writes a case's version of the file {@code relative} under {@code dir/model}: alone, or, for a case that loads
     * the whole model ({@code whole}), with the rest of the folder linked around it. Returns the file.
     */
    Path place(Path dir, String relative, byte[] bytes, boolean whole) throws IOException {
        Path model = dir.resolve("model");
        if (whole) {
            linkFolder(model, relative);
        }
        Path file = model.resolve(relative);
        Files.createDirectories(file.getParent());
        return Files.write(file, bytes);
    }

    private void writeFolder() throws IOException {
        write("model_index.json", MODEL_INDEX);
        write("scheduler/scheduler_config.json", SCHEDULER);
        writeTokenizer();
        write("text_encoder/config.json", TEXT_ENCODER.replace("VOCAB", String.valueOf(vocabSize())));
        write("unet/config.json", UNET);
        write("vae/config.json", VAE);
        weights("unet/diffusion_pytorch_model.safetensors", "unet/config.json",
                (w, c) -> new UNet2DConditionModel(w, UNetConfig.from(c)));
        weights("vae/diffusion_pytorch_model.safetensors", "vae/config.json",
                (w, c) -> new AutoencoderKL(w, VaeConfig.from(c)));
        weights("text_encoder/model.safetensors", "text_encoder/config.json",
                (w, c) -> new ClipTextModel(w, ClipTextConfig.from(c)));
    }

    private void write(String relative, String text) throws IOException {
        Files.createDirectories(file(relative).getParent());
        Files.writeString(file(relative), text);
    }

    /** Random weights for a component, with the golden fixtures' rule, as F32. */
    private void weights(String relative, String config, BiFunction<Weights, JsonConfig, Object> build) {
        try (NDManager m = NDManager.newBaseManager()) {
            Weights w = Weights.random(relative.hashCode(), m, relative);
            build.apply(w, JsonConfig.read(file(config)));
            SafetensorsWriter writer = new SafetensorsWriter().metadata(Map.of("format", "pt"));
            for (Map.Entry<String, NDArray> e : w.taken().entrySet()) {
                writer.add(e.getKey(), DType.F32, e.getValue().getShape().getShape(), e.getValue().toByteBuffer());
            }
            writer.write(file(relative));
        }
    }

    /** CLIP's first {@value #MERGES} merges, and the vocabulary they make (as CLIP's SimpleTokenizer builds it). */
    private void writeTokenizer() throws IOException {
        StringBuilder merges = new StringBuilder("#version: 0.2\n");
        for (ClipVocab.Merge mg : ClipVocab.bundled().merges().subList(0, MERGES)) {
            merges.append(mg.first()).append(' ').append(mg.second()).append('\n');
        }
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(merges.toString().strip().getBytes(StandardCharsets.UTF_8));
        }
        ClipVocab vocab = ClipVocab.fromOpenAiBpe(new java.io.ByteArrayInputStream(gz.toByteArray()), "micro");
        Map<String, Integer> byId = new LinkedHashMap<>();
        vocab.encoder().entrySet().stream().sorted(Map.Entry.comparingByValue())
                .forEach(e -> byId.put(e.getKey(), e.getValue()));
        write("tokenizer/vocab.json", new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(byId));
        write("tokenizer/merges.txt", merges.toString());
        write("tokenizer/tokenizer_config.json", TOKENIZER_CONFIG);
        write("tokenizer/special_tokens_map.json", SPECIAL_TOKENS);
    }

    /** Entries of the micro vocabulary: 256 bytes, the same with {@code </w>}, the merges, bos and eos. */
    static int vocabSize() {
        return 512 + MERGES + 2;
    }

    /** Random values for every key: mostly F16, some F32 (as real files mix them). */
    private static StFile randomCheckpoint(Map<String, long[]> shapes, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        StFile f = new StFile();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String dtype = rnd.nextInt(8) == 0 ? "F32" : "F16";
            long n = 1;
            for (long d : e.getValue()) {
                n *= d;
            }
            f.tensors.add(new StFile.Tensor(e.getKey(), dtype, e.getValue(), Mutations.floats(rnd, dtype, (int) n)));
        }
        return f;
    }

    /** Every file of the folder, as paths. */
    List<Path> files() {
        List<Path> out = new ArrayList<>();
        FILES.forEach(f -> out.add(file(f)));
        return out;
    }

    static final String MODEL_INDEX = """
            {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.27.2",
             "feature_extractor": [null, null], "image_encoder": [null, null], "requires_safety_checker": false,
             "safety_checker": [null, null], "scheduler": ["diffusers", "PNDMScheduler"],
             "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
             "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]}
            """;

    static final String SCHEDULER = """
            {"_class_name": "PNDMScheduler", "_diffusers_version": "0.27.2", "beta_end": 0.012,
             "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": false, "num_train_timesteps": 1000,
             "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1, "trained_betas": null,
             "timestep_spacing": "leading", "prediction_type": "epsilon"}
            """;

    static final String UNET = """
            {"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.27.2", "act_fn": "silu",
             "addition_embed_type": null, "addition_embed_type_num_heads": 64, "addition_time_embed_dim": null,
             "attention_head_dim": 2, "attention_type": "default", "block_out_channels": [8, 16],
             "center_input_sample": false, "class_embed_type": null, "class_embeddings_concat": false,
             "conv_in_kernel": 3, "conv_out_kernel": 3, "cross_attention_dim": 16, "cross_attention_norm": null,
             "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"], "downsample_padding": 1, "dropout": 0.0,
             "dual_cross_attention": false, "encoder_hid_dim": null, "encoder_hid_dim_type": null,
             "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4, "layers_per_block": 1,
             "mid_block_only_cross_attention": null, "mid_block_scale_factor": 1,
             "mid_block_type": "UNetMidBlock2DCrossAttn", "norm_eps": 1e-05, "norm_num_groups": 4,
             "num_attention_heads": null, "num_class_embeds": null, "only_cross_attention": false, "out_channels": 4,
             "projection_class_embeddings_input_dim": null, "resnet_out_scale_factor": 1.0,
             "resnet_skip_time_act": false, "resnet_time_scale_shift": "default",
             "reverse_transformer_layers_per_block": null, "sample_size": 8, "time_cond_proj_dim": null,
             "time_embedding_act_fn": null, "time_embedding_dim": null, "time_embedding_type": "positional",
             "timestep_post_act": null, "transformer_layers_per_block": 1,
             "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "upcast_attention": false,
             "use_linear_projection": false}
            """;

    static final String VAE = """
            {"_class_name": "AutoencoderKL", "_diffusers_version": "0.27.2", "act_fn": "silu",
             "block_out_channels": [8, 8], "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
             "force_upcast": true, "in_channels": 3, "latent_channels": 4, "latents_mean": null, "latents_std": null,
             "layers_per_block": 1, "norm_num_groups": 4, "out_channels": 3, "sample_size": 16,
             "scaling_factor": 0.18215, "shift_factor": null,
             "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"], "use_post_quant_conv": true,
             "use_quant_conv": true}
            """;

    static final String TEXT_ENCODER = """
            {"architectures": ["CLIPTextModel"], "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0,
             "eos_token_id": 2, "hidden_act": "quick_gelu", "hidden_size": 16, "initializer_factor": 1.0,
             "initializer_range": 0.02, "intermediate_size": 32, "layer_norm_eps": 1e-05,
             "max_position_embeddings": 16, "model_type": "clip_text_model", "num_attention_heads": 2,
             "num_hidden_layers": 1, "pad_token_id": 1, "projection_dim": 16, "torch_dtype": "float32",
             "transformers_version": "4.38.2", "vocab_size": VOCAB}
            """;

    static final String TOKENIZER_CONFIG = """
            {"add_prefix_space": false, "bos_token": {"__type": "AddedToken", "content": "<|startoftext|>",
             "lstrip": false, "normalized": true, "rstrip": false, "single_word": false},
             "clean_up_tokenization_spaces": true, "do_lower_case": true,
             "eos_token": {"__type": "AddedToken", "content": "<|endoftext|>", "lstrip": false, "normalized": true,
             "rstrip": false, "single_word": false}, "errors": "replace", "model_max_length": 16,
             "pad_token": "<|endoftext|>", "tokenizer_class": "CLIPTokenizer",
             "unk_token": {"__type": "AddedToken", "content": "<|endoftext|>", "lstrip": false, "normalized": true,
             "rstrip": false, "single_word": false}}
            """;

    static final String SPECIAL_TOKENS = """
            {"bos_token": {"content": "<|startoftext|>", "lstrip": false, "normalized": true, "rstrip": false,
             "single_word": false}, "eos_token": {"content": "<|endoftext|>", "lstrip": false, "normalized": true,
             "rstrip": false, "single_word": false}, "pad_token": "<|endoftext|>",
             "unk_token": {"content": "<|endoftext|>", "lstrip": false, "normalized": true, "rstrip": false,
             "single_word": false}}
            """;
}
