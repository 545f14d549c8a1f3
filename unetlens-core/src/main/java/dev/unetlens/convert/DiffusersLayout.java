package dev.unetlens.convert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.ldm.LdmComponent;
import dev.unetlens.io.ldm.LdmFamily;
import dev.unetlens.tokenizer.TokenizerFiles;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The parts of a diffusers folder besides the weights, as diffusers v0.27.2's {@code save_pretrained} writes them
 * for a pipeline converted from a single file: {@code model_index.json} (no safety checker, feature extractor or
 * image encoder), the tokenizer folders, the weight file names; and which family a folder is.
 */
final class DiffusersLayout {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DiffusersLayout() {
    }

    /** The family of a diffusers folder: SDXL by its second text encoder, SD 2.x by its OpenCLIP text encoder. */
    static LdmFamily family(DiffusersFolder folder) {
        boolean te2 = folder.hasComponent("text_encoder_2");
        if (te2) {
            return folder.hasComponent("text_encoder") ? LdmFamily.SDXL : LdmFamily.SDXL_REFINER;
        }
        String act = JsonConfig.read(folder.config("text_encoder")).node().path("hidden_act").asText("");
        return act.equals("gelu") ? LdmFamily.SD2 : LdmFamily.SD1;
    }

    /** The components of a family, in folder order. */
    static java.util.List<LdmComponent> components(LdmFamily family) {
        return java.util.Arrays.stream(LdmComponent.values()).filter(c -> family.prefix(c) != null).toList();
    }

    /** The weight file name of a component ({@code unet/diffusion_pytorch_model.safetensors}, ...). */
    static String weightFile(LdmComponent c) {
        return c.folder() + "/" + (c.folder().startsWith("text_encoder") ? "model" : "diffusion_pytorch_model")
                + ".safetensors";
    }

    /** {@code model_index.json} of a pipeline of {@code family} with the scheduler class {@code scheduler}. */
    static ObjectNode modelIndex(LdmFamily family, String scheduler) {
        ObjectNode m = JSON.createObjectNode();
        m.put("_class_name", switch (family) {
            case SD1, SD2 -> "StableDiffusionPipeline";
            case SDXL -> "StableDiffusionXLPipeline";
            case SDXL_REFINER -> "StableDiffusionXLImg2ImgPipeline";
        });
        m.put("_diffusers_version", "0.27.2");
        none(m, "feature_extractor");
        none(m, "image_encoder");
        if (family.isXl()) {
            m.put("force_zeros_for_empty_prompt", family == LdmFamily.SDXL);
        } else {
            m.put("requires_safety_checker", false);
            none(m, "safety_checker");
        }
        if (family == LdmFamily.SDXL_REFINER) {
            m.put("requires_aesthetics_score", true);
        }
        pair(m, "scheduler", "diffusers", scheduler);
        if (family.prefix(LdmComponent.TEXT_ENCODER) != null) {
            pair(m, "text_encoder", "transformers", "CLIPTextModel");
            pair(m, "tokenizer", "transformers", "CLIPTokenizer");
        }
        if (family.prefix(LdmComponent.TEXT_ENCODER_2) != null) {
            pair(m, "text_encoder_2", "transformers", "CLIPTextModelWithProjection");
            pair(m, "tokenizer_2", "transformers", "CLIPTokenizer");
        }
        pair(m, "unet", "diffusers", "UNet2DConditionModel");
        pair(m, "vae", "diffusers", "AutoencoderKL");
        return m;
    }

    private static void none(ObjectNode m, String key) {
        ArrayNode a = m.putArray(key);
        a.addNull();
        a.addNull();
    }

    private static void pair(ObjectNode m, String key, String library, String cls) {
        m.putArray(key).add(library).add(cls);
    }

    /**
     * The tokenizer folders of a family, path → bytes: CLIP's vocabulary, padded with {@code <|endoftext|>} for the
     * CLIP ViT-L encoders and with {@code !} for the OpenCLIP ones (what diffusers' single-file loader sets up).
     */
    static Map<String, byte[]> tokenizers(LdmFamily family) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        if (family.prefix(LdmComponent.TEXT_ENCODER) != null) {
            String pad = family == LdmFamily.SD2 ? "!" : "<|endoftext|>";
            TokenizerFiles.clip(pad).forEach((name, bytes) -> files.put("tokenizer/" + name, bytes));
        }
        if (family.prefix(LdmComponent.TEXT_ENCODER_2) != null) {
            TokenizerFiles.clip("!").forEach((name, bytes) -> files.put("tokenizer_2/" + name, bytes));
        }
        return files;
    }
}
