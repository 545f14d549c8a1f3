package dev.unetlens.pipeline;

import ai.djl.ndarray.NDManager;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.TensorSource;
import dev.unetlens.io.ldm.CheckpointConfigs;
import dev.unetlens.io.ldm.InferOptions;
import dev.unetlens.io.ldm.LdmComponent;
import dev.unetlens.io.ldm.SingleFileCheckpoint;
import dev.unetlens.lora.LoraSpec;
import dev.unetlens.lora.Loras;
import dev.unetlens.model.Precision;
import dev.unetlens.model.TorchRuntime;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.unet.UNet2DConditionModel;
import dev.unetlens.model.vae.AutoencoderKL;
import dev.unetlens.tokenizer.ClipTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A loaded Stable Diffusion model: tokenizers and text encoders, U-Net, VAE and the scheduler config, weights held
 * once in one native memory manager that {@link #close} frees. Loads a diffusers folder or a single
 * {@code .safetensors} checkpoint in the original LDM naming (configs inferred from the weights, or taken from a
 * diffusers folder given with {@link Options#configs}).
 */
public final class StableDiffusion implements AutoCloseable {
    private final Path source;
    private final ModelFamily family;
    private final PromptEncoder prompts;
    private final UNet2DConditionModel unet;
    private final AutoencoderKL vae;
    private final JsonConfig schedulerConfig;
    private final boolean forceZerosForEmptyPrompt;
    private final List<Path> weightFiles;
    private final CheckpointConfigs inferred;
    private final List<String> notes;
    private final List<Loras.Applied> loras;
    private final NDManager manager;

    /**
     * How to load.
     *
     * @param variant weight variant of a diffusers folder ({@code fp16}, {@code bf16}) or null for float32
     * @param configs a diffusers folder whose configs describe a single-file checkpoint, or null to infer them
     * @param infer   settings a single file cannot record (prediction type, image size, attention upcast)
     * @param ema     for a single-file checkpoint: its EMA U-Net weights ({@code model_ema.*}) in place of the trained
     *                ones (diffusers' {@code extract_ema}); by default they are left out, as A1111 leaves them
     * @param loras   LoRA files merged into the U-Net and text encoders as they load, with their scales
     */
    public record Options(String variant, Path configs, InferOptions infer, boolean ema, List<LoraSpec> loras,
                          Precision precision) {
        public static final Options DEFAULT = new Options(null, null, InferOptions.DIFFUSERS_DEFAULTS);

        public Options(String variant, Path configs, InferOptions infer) {
            this(variant, configs, infer, false, List.of());
        }

        public Options(String variant, Path configs, InferOptions infer, boolean ema, List<LoraSpec> loras) {
            this(variant, configs, infer, ema, loras, Precision.FP32);
        }

        /** These options with the U-Net's products in {@code p}. */
        public Options withPrecision(Precision p) {
            return new Options(variant, configs, infer, ema, loras, p);
        }

        public Options {
            if (variant != null && !variant.matches("[A-Za-z0-9_]+")) {
                throw new UnetlensException("--variant must be a plain name like fp16 or bf16, got '" + variant + "'");
            }
            if (infer == null) {
                infer = InferOptions.DIFFUSERS_DEFAULTS;
            }
            loras = loras == null ? List.of() : List.copyOf(loras);
            precision = precision == null ? Precision.FP32 : precision;
        }
    }

    /** What to build one component from. */
    private record Part(JsonConfig config, TensorSource weights) {
    }

    private StableDiffusion(Path source, ModelFamily family, PromptEncoder prompts, UNet2DConditionModel unet,
                            AutoencoderKL vae, JsonConfig schedulerConfig, boolean forceZeros, List<Path> weightFiles,
                            CheckpointConfigs inferred, Loaded loaded, NDManager manager) {
        this.source = source;
        this.family = family;
        this.prompts = prompts;
        this.unet = unet;
        this.vae = vae;
        this.schedulerConfig = schedulerConfig;
        this.forceZerosForEmptyPrompt = forceZeros;
        this.weightFiles = List.copyOf(weightFiles);
        this.inferred = inferred;
        this.notes = loaded.notes();
        this.loras = loaded.loras();
        this.manager = manager;
    }

    /** How the weights were read: notes of a single file's reader, the LoRAs merged. */
    private record Loaded(List<String> notes, List<Loras.Applied> loras) {
    }

    /**
     * Loads a diffusers model folder or a single {@code .safetensors} checkpoint (anything that exists and is not a
     * folder is opened as one, which refuses what is not a regular safetensors file).
     */
    public static StableDiffusion load(Path model, Options options) {
        try (Loras loras = Loras.open(options.loras())) {
            if (!Files.isDirectory(model) && Files.exists(model)) {
                return loadSingleFile(model, options, loras);
            }
            return loadFolder(model, options, loras);
        }
    }

    private static StableDiffusion loadFolder(Path model, Options options, Loras loras) {
        DiffusersFolder folder = DiffusersFolder.open(model);
        if (options.ema()) {
            throw new UnetlensException("--ema applies to single-file checkpoints; " + model + " is a diffusers folder,"
                    + " which holds no EMA copy");
        }
        JsonConfig index = JsonConfig.read(folder.modelIndex());
        boolean xl = index.string("_class_name", "").contains("XL") || folder.hasComponent("text_encoder_2");
        List<String> texts = xl ? List.of("text_encoder", "text_encoder_2") : List.of("text_encoder");
        List<Path> files = new ArrayList<>();
        List<TensorSource> open = new ArrayList<>();
        try {
            List<Part> textParts = new ArrayList<>();
            List<ClipTokenizer> tokenizers = new ArrayList<>();
            for (String t : texts) {
                textParts.add(part(folder, t, options, files, open));
                tokenizers.add(ClipTokenizer.load(folder.component(t.replace("text_encoder", "tokenizer"))));
            }
            return assemble(model, xl, tokenizers, textParts, part(folder, "unet", options, files, open),
                    part(folder, "vae", options, files, open), JsonConfig.read(folder.config("scheduler")),
                    index.bool("force_zeros_for_empty_prompt", xl), files, null, loras, List.of(), options.precision());
        } finally {
            open.forEach(TensorSource::close);
        }
    }

    private static Part part(DiffusersFolder folder, String component, Options o, List<Path> files, List<TensorSource> open) {
        files.add(folder.weightFile(component, o.variant()));
        TensorSource src = folder.openWeights(component, o.variant());
        open.add(src);
        return new Part(JsonConfig.read(folder.config(component)), src);
    }

    private static StableDiffusion loadSingleFile(Path file, Options options, Loras loras) {
        if (options.variant() != null) {
            throw new UnetlensException("--variant applies to diffusers folders; " + file + " is a single file");
        }
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(file, options.ema())) {
            CheckpointConfigs configs = options.configs() != null
                    ? CheckpointConfigs.read(DiffusersFolder.open(options.configs()))
                    : ckpt.inferConfigs(options.infer());
            boolean xl = ckpt.family() == dev.unetlens.io.ldm.LdmFamily.SDXL;
            if (ckpt.family() == dev.unetlens.io.ldm.LdmFamily.SDXL_REFINER) {
                throw new UnetlensException(file + ": an SDXL refiner checkpoint; unetlens runs base models");
            }
            if (!ckpt.has(LdmComponent.TEXT_ENCODER) || !ckpt.has(LdmComponent.VAE)) {
                throw new UnetlensException(file + ": the checkpoint has no " + (ckpt.has(LdmComponent.VAE) ? "text encoder" : "VAE")
                        + "; unetlens runs complete checkpoints (U-Net, VAE and text encoders)");
            }
            List<Part> textParts = new ArrayList<>();
            List<ClipTokenizer> tokenizers = new ArrayList<>();
            textParts.add(new Part(configs.json(LdmComponent.TEXT_ENCODER), ckpt.component(LdmComponent.TEXT_ENCODER)));
            // the CLIP vocabulary is the same for every SD model; the OpenCLIP encoders (SD 2.x, SDXL's second) pad with "!"
            boolean sd2 = ckpt.family() == dev.unetlens.io.ldm.LdmFamily.SD2;
            tokenizers.add(ClipTokenizer.bundled(sd2 ? "!" : "<|endoftext|>"));
            if (xl) {
                textParts.add(new Part(configs.json(LdmComponent.TEXT_ENCODER_2), ckpt.component(LdmComponent.TEXT_ENCODER_2)));
                tokenizers.add(ClipTokenizer.bundled("!"));
            }
            if (configs.scheduler() == null) {
                throw new UnetlensException(configs.source() + ": no scheduler config; give a folder with scheduler/scheduler_config.json");
            }
            JsonConfig scheduler = new JsonConfig(configs.source() + " (scheduler)", configs.scheduler());
            return assemble(file, xl, tokenizers, textParts,
                    new Part(configs.json(LdmComponent.UNET), ckpt.component(LdmComponent.UNET)),
                    new Part(configs.json(LdmComponent.VAE), ckpt.component(LdmComponent.VAE)),
                    scheduler, xl, List.of(file), configs, loras, ckpt.notes(), options.precision());
        }
    }

    private static StableDiffusion assemble(Path source, boolean xl, List<ClipTokenizer> tokenizers, List<Part> texts,
                                            Part unetPart, Part vaePart, JsonConfig scheduler, boolean forceZeros,
                                            List<Path> files, CheckpointConfigs inferred, Loras loras,
                                            List<String> notes, Precision precision) {
        List<TensorSource> textWeights = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            textWeights.add(loras.apply(i == 0 ? LdmComponent.TEXT_ENCODER : LdmComponent.TEXT_ENCODER_2,
                    texts.get(i).weights()));
        }
        TensorSource unetWeights = loras.apply(LdmComponent.UNET, unetPart.weights());
        TensorSource vaeWeights = loras.apply(LdmComponent.VAE, vaePart.weights());
        loras.finish();
        NDManager manager = TorchRuntime.newBaseManager();
        try {
            List<PromptEncoder.TextStack> stacks = new ArrayList<>();
            ClipTextConfig first = null;
            for (int i = 0; i < texts.size(); i++) {
                ClipTextConfig cfg = ClipTextConfig.from(texts.get(i).config());
                requireFits(tokenizers.get(i), cfg, texts.get(i).config().source());
                first = first == null ? cfg : first;
                stacks.add(new PromptEncoder.TextStack(tokenizers.get(i),
                        ClipTextModel.load(textWeights.get(i), cfg, manager)));
            }
            ModelFamily family = xl ? ModelFamily.SDXL
                    : first.hiddenAct().equals("gelu") || first.hiddenSize() == 1024 ? ModelFamily.SD2 : ModelFamily.SD1;
            UNet2DConditionModel unet = UNet2DConditionModel.load(unetWeights, UNetConfig.from(unetPart.config()), manager,
                    precision);
            AutoencoderKL vae = AutoencoderKL.load(vaeWeights, VaeConfig.from(vaePart.config()), manager);
            return new StableDiffusion(source, family, new PromptEncoder(family, stacks), unet, vae, scheduler,
                    forceZeros, files, inferred, new Loaded(List.copyOf(notes), loras.applied()), manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Fails unless the text encoder can read every sequence the tokenizer makes: no longer than its positions, no id
     * past its vocabulary (diffusers would fail mid-generation with "index out of range").
     */
    private static void requireFits(ClipTokenizer tokenizer, ClipTextConfig encoder, String encoderConfig) {
        if (tokenizer.modelMaxLength() > encoder.maxPositions()) {
            throw new UnetlensException(tokenizer.source() + ": model_max_length " + tokenizer.modelMaxLength()
                    + " is more than the text encoder's max_position_embeddings " + encoder.maxPositions()
                    + " (" + encoderConfig + "); a prompt that long could not be encoded");
        }
        if (tokenizer.maxId() >= encoder.vocabSize()) {
            throw new UnetlensException(tokenizer.source() + ": token id " + tokenizer.maxId() + " is past the text"
                    + " encoder's vocab_size " + encoder.vocabSize() + " (" + encoderConfig + "); the tokenizer"
                    + " does not belong to this text encoder");
        }
    }

    public Path source() {
        return source;
    }

    public ModelFamily family() {
        return family;
    }

    public PromptEncoder prompts() {
        return prompts;
    }

    public UNet2DConditionModel unet() {
        return unet;
    }

    public AutoencoderKL vae() {
        return vae;
    }

    /** The model's {@code scheduler_config.json}. */
    public JsonConfig schedulerConfig() {
        return schedulerConfig;
    }

    /** SDXL's {@code force_zeros_for_empty_prompt} from {@code model_index.json} (true for single files, as diffusers). */
    public boolean forceZerosForEmptyPrompt() {
        return forceZerosForEmptyPrompt;
    }

    /** The weight files read, for the manifest. */
    public List<Path> weightFiles() {
        return weightFiles;
    }

    /** For a single-file checkpoint: the configs it was built with (to save beside outputs); null for folders. */
    public CheckpointConfigs singleFileConfigs() {
        return inferred;
    }

    /** How a single file was read (pickle reader, EMA weights), one line each; empty for folders. */
    public List<String> notes() {
        return notes;
    }

    /** The LoRAs merged into the weights, in the order given. */
    public List<Loras.Applied> loras() {
        return loras;
    }

    /** The memory manager that owns the weights; create per-run arrays in sub-managers of it. */
    public NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        manager.close();
    }
}
