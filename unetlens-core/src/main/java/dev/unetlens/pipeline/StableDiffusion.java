package dev.unetlens.pipeline;

import ai.djl.ndarray.NDManager;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.unet.UNet2DConditionModel;
import dev.unetlens.model.vae.AutoencoderKL;
import dev.unetlens.tokenizer.ClipTokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A loaded Stable Diffusion model: tokenizers and text encoders, U-Net, VAE and the scheduler config, weights held
 * once in one native memory manager that {@link #close} frees.
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
    private final NDManager manager;

    /**
     * How to load.
     *
     * @param variant weight variant ({@code fp16}, {@code bf16}) or null for the float32 files
     */
    public record Options(String variant) {
        public static final Options DEFAULT = new Options(null);

        public Options {
            if (variant != null && !variant.matches("[A-Za-z0-9_]+")) {
                throw new UnetlensException("--variant must be a plain name like fp16 or bf16, got '" + variant + "'");
            }
        }
    }

    private StableDiffusion(Path source, ModelFamily family, PromptEncoder prompts, UNet2DConditionModel unet,
                            AutoencoderKL vae, JsonConfig schedulerConfig, boolean forceZeros, List<Path> weightFiles,
                            NDManager manager) {
        this.source = source;
        this.family = family;
        this.prompts = prompts;
        this.unet = unet;
        this.vae = vae;
        this.schedulerConfig = schedulerConfig;
        this.forceZerosForEmptyPrompt = forceZeros;
        this.weightFiles = List.copyOf(weightFiles);
        this.manager = manager;
    }

    /** Loads a diffusers model folder. */
    public static StableDiffusion load(Path model, Options options) {
        DiffusersFolder folder = DiffusersFolder.open(model);
        JsonConfig index = JsonConfig.read(folder.modelIndex());
        boolean xl = index.string("_class_name", "").contains("XL") || folder.hasComponent("text_encoder_2");
        NDManager manager = NDManager.newBaseManager();
        List<Path> files = new ArrayList<>();
        try {
            List<PromptEncoder.TextStack> stacks = new ArrayList<>();
            ClipTextConfig first = null;
            for (String suffix : xl ? List.of("", "_2") : List.of("")) {
                ClipTextConfig cfg = ClipTextConfig.read(folder.config("text_encoder" + suffix));
                first = first == null ? cfg : first;
                ClipTextModel enc;
                files.add(folder.weightFile("text_encoder" + suffix, options.variant()));
                try (TensorSource src = folder.openWeights("text_encoder" + suffix, options.variant())) {
                    enc = ClipTextModel.load(src, cfg, manager);
                }
                stacks.add(new PromptEncoder.TextStack(ClipTokenizer.load(folder.component("tokenizer" + suffix)), enc));
            }
            ModelFamily family = xl ? ModelFamily.SDXL
                    : first.hiddenAct().equals("gelu") || first.hiddenSize() == 1024 ? ModelFamily.SD2 : ModelFamily.SD1;
            UNet2DConditionModel unet;
            files.add(folder.weightFile("unet", options.variant()));
            try (TensorSource src = folder.openWeights("unet", options.variant())) {
                unet = UNet2DConditionModel.load(src, UNetConfig.read(folder.config("unet")), manager);
            }
            AutoencoderKL vae;
            files.add(folder.weightFile("vae", options.variant()));
            try (TensorSource src = folder.openWeights("vae", options.variant())) {
                vae = AutoencoderKL.load(src, VaeConfig.read(folder.config("vae")), manager);
            }
            JsonConfig scheduler = JsonConfig.read(folder.config("scheduler"));
            boolean forceZeros = index.bool("force_zeros_for_empty_prompt", xl);
            return new StableDiffusion(model, family, new PromptEncoder(family, stacks), unet, vae, scheduler,
                    forceZeros, files, manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
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

    /** SDXL's {@code force_zeros_for_empty_prompt} from {@code model_index.json}. */
    public boolean forceZerosForEmptyPrompt() {
        return forceZerosForEmptyPrompt;
    }

    /** The weight files read, for the manifest. */
    public List<Path> weightFiles() {
        return weightFiles;
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
