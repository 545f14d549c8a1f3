package dev.unetlens.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.io.FileHashes;
import dev.unetlens.io.Versions;
import dev.unetlens.lora.Loras;
import dev.unetlens.schedule.SchedulerKind;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** How runs are described: manifest entries for the model and the request, and A1111-style PNG parameters. */
public final class RunRecords {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RunRecords() {
    }

    /** The model: path, family, each weight file with its SHA-256, and (single files) the configs used. */
    /**
     * The U-Net's precision ({@code fp32}, the default, or {@code bf16}) and, for bf16, its error against fp32
     * measured on the run's first U-Net forward ({@link dev.unetlens.model.unet.Bf16Error}); write it when the run's
     * forwards are done.
     */
    public static ObjectNode precision(StableDiffusion sd) {
        ObjectNode p = JSON.createObjectNode();
        p.put("unet", sd.unet().precision().label());
        if (sd.unet().precision() == dev.unetlens.model.Precision.BF16) {
            p.put("bf16_ops", "convolutions (but conv_in, conv_out), linear layers (but the timestep embeddings), attention's"
                    + " Q.K^T and P.V; float32 in and out of each, float32 accumulation; norms, softmax, residual sums,"
                    + " hook points, text encoder, VAE and scheduler in float32");
            dev.unetlens.model.unet.Bf16Error e = sd.unet().bf16Error();
            if (e == null) {
                p.put("error_vs_fp32", "not measured: the run made no U-Net forward");
            } else {
                ObjectNode err = p.putObject("error_vs_fp32");
                err.put("measured_on", "the run's first U-Net forward, against the same model's fp32 path"
                        + (e.stage().isEmpty() ? " (the prediction)" : " (stopped after " + e.stage() + ")"));
                err.put("timestep", e.timestep());
                err.put("max_abs", e.maxAbs());
                err.put("max_abs_fp32_value", e.maxReference());
                err.put("relative_l2", e.relativeL2());
                err.put("extra_bf16_forward", e.extraBf16());
                err.put("seconds", e.seconds());
            }
        }
        return p;
    }

    public static ObjectNode model(StableDiffusion sd, FileHashes hashes) {
        ObjectNode m = JSON.createObjectNode();
        m.put("path", sd.source().toAbsolutePath().toString());
        m.put("family", sd.family().name());
        ArrayNode files = m.putArray("weight_files");
        for (Path f : sd.weightFiles()) {
            ObjectNode e = files.addObject();
            e.put("file", f.toAbsolutePath().toString());
            e.put("sha256", hashes.sha256(f));
        }
        if (sd.singleFileConfigs() != null) {
            m.put("configs_from", sd.singleFileConfigs().source());
            m.set("config_notes", JSON.valueToTree(sd.singleFileConfigs().notes()));
        }
        if (!sd.notes().isEmpty()) {
            m.set("weights_notes", JSON.valueToTree(sd.notes()));
        }
        if (!sd.loras().isEmpty()) {
            ArrayNode loras = m.putArray("loras");
            for (Loras.Applied l : sd.loras()) {
                ObjectNode e = loras.addObject();
                e.put("file", l.spec().file().toAbsolutePath().toString());
                e.put("name", l.spec().name());
                e.put("scale", l.spec().scale());
                e.put("sha256", hashes.sha256(l.spec().file()));
                e.put("a1111_hash", shortHash(l));
                e.put("format", l.format());
                e.set("modules_merged", JSON.valueToTree(l.modules()));
                e.set("module_kinds", JSON.valueToTree(l.kinds()));
                e.put("merge", "W + scale * dW in float32 at load (dW = up . down . alpha / rank for LoRA)");
            }
        }
        return m;
    }

    /** A1111's short LoRA hash: the first 12 characters of its hash ({@code Lora hashes}). */
    private static String shortHash(Loras.Applied l) {
        return l.a1111Hash().substring(0, Math.min(12, l.a1111Hash().length()));
    }

    /** Every field of the request, with the random generator that drew the noise. */
    public static ObjectNode request(GenerationRequest r) {
        ObjectNode n = JSON.createObjectNode();
        n.put("mode", r.isImg2Img() ? "img2img" : "txt2img");
        n.set("prompts", JSON.valueToTree(r.prompts()));
        n.set("negative_prompts", r.negativePrompts() == null ? null : JSON.valueToTree(r.negativePrompts()));
        n.set("prompts_2", r.prompts2() == null ? null : JSON.valueToTree(r.prompts2()));
        n.set("negative_prompts_2", r.negativePrompts2() == null ? null : JSON.valueToTree(r.negativePrompts2()));
        ObjectNode s = n.putObject("sampler");
        s.put("scheduler", r.sampler().kind() == null ? null : r.sampler().kind().cliName());
        s.put("karras", r.sampler().karras());
        s.put("timestep_spacing", r.sampler().spacing() == null ? null : r.sampler().spacing().name().toLowerCase(Locale.ROOT));
        s.put("eta", r.sampler().eta());
        n.put("steps", r.steps());
        n.put("guidance", r.guidance());
        n.put("seed", r.seed());
        n.put("rng", "torch.Generator('cpu').manual_seed(seed), reproduced bit for bit");
        n.put("height", r.height());
        n.put("width", r.width());
        n.put("images_per_prompt", r.imagesPerPrompt());
        n.put("init_image", r.initImage() == null ? null : r.initImage().toAbsolutePath().toString());
        if (r.isImg2Img()) {
            n.put("strength", r.strength());
        }
        n.put("latents", r.latents() == null ? null : r.latents().toAbsolutePath().toString());
        n.set("time_ids", r.timeIds() == null ? null : JSON.valueToTree(r.timeIds()));
        n.set("negative_time_ids", r.negativeTimeIds() == null ? null : JSON.valueToTree(r.negativeTimeIds()));
        n.put("clip_skip", r.clipSkip());
        return n;
    }

    /** Library versions, for the manifest. */
    public static ObjectNode versions() {
        ObjectNode v = JSON.createObjectNode();
        v.put("unetlens", Versions.UNETLENS);
        v.put("djl", Versions.DJL);
        v.put("libtorch", Versions.LIBTORCH);
        v.put("java", Runtime.version().toString());
        v.put("threads", ai.djl.engine.Engine.getInstance().getEngineName().equals("PyTorch")
                ? Integer.getInteger("ai.djl.pytorch.num_threads", Runtime.getRuntime().availableProcessors())
                : Runtime.getRuntime().availableProcessors());
        v.put("omp_wait_policy", dev.unetlens.model.TorchRuntime.openMpWaitPolicy());
        return v;
    }

    /**
     * The generation parameters as AUTOMATIC1111 writes them into a PNG's {@code parameters} text chunk, which other
     * tools (PNG info readers, civitai) parse: prompt, {@code Negative prompt: …}, then {@code Key: value} pairs.
     */
    public static String a1111(GenerationRequest r, GenerationResult result, int imageIndex, String modelName,
                               String modelHash, String schedulerClass) {
        return a1111(r, result, imageIndex, modelName, modelHash, schedulerClass, List.of(), List.of(),
                dev.unetlens.model.Precision.FP32);
    }

    /**
     * {@link #a1111(GenerationRequest, GenerationResult, int, String, String, String)} with the LoRAs merged into
     * the model as A1111 records them — a {@code <lora:name:scale>} tag after the prompt for each (unless the prompt
     * has it already: A1111 reads LoRAs from such tags) and {@code Lora hashes: "name: hash12, …"}, the hash A1111
     * keys its LoRAs by — and the run's edits ({@code --edit}s and text edits as the command line writes them) as one
     * {@code Edits: "…; …"} pair, quoted as A1111 quotes values that hold commas or colons (JSON string), and the
     * U-Net's {@code Precision: fp32|bf16} after the model.
     */
    public static String a1111(GenerationRequest r, GenerationResult result, int imageIndex, String modelName,
                               String modelHash, String schedulerClass, List<Loras.Applied> loras, List<String> edits,
                               dev.unetlens.model.Precision precision) {
        int prompt = imageIndex / r.imagesPerPrompt();
        StringBuilder sb = new StringBuilder(r.prompts().get(prompt));
        for (Loras.Applied l : loras) {
            String tag = "<lora:" + l.spec().name() + ":" + trim(l.spec().scale()) + ">";
            if (!sb.toString().contains("<lora:" + l.spec().name() + ":")) {
                sb.append(sb.isEmpty() || sb.charAt(sb.length() - 1) == ' ' ? "" : " ").append(tag);
            }
        }
        List<String> neg = r.negativePrompts();
        if (neg != null && !neg.get(prompt).isEmpty()) {
            sb.append("\nNegative prompt: ").append(neg.get(prompt));
        }
        sb.append("\nSteps: ").append(r.steps());
        sb.append(", Sampler: ").append(a1111Sampler(schedulerClass));
        if (r.sampler().karras()) {
            sb.append(", Schedule type: Karras");
        }
        sb.append(", CFG scale: ").append(trim(r.guidance()));
        sb.append(", Seed: ").append(r.seed());
        sb.append(", Size: ").append(r.width()).append('x').append(r.height());
        sb.append(", Model hash: ").append(modelHash.substring(0, Math.min(10, modelHash.length())));
        sb.append(", Model: ").append(modelName);
        sb.append(", Precision: ").append(precision.label());
        if (r.isImg2Img()) {
            sb.append(", Denoising strength: ").append(trim(r.strength()));
        }
        if (r.clipSkip() > 0) {
            sb.append(", Clip skip: ").append(r.clipSkip() + 1);
        }
        if (r.imagesPerPrompt() > 1) {
            sb.append(", Batch size: ").append(r.imagesPerPrompt()).append(", Batch pos: ").append(imageIndex % r.imagesPerPrompt());
        }
        if (!loras.isEmpty()) {
            List<String> hashes = loras.stream()
                    .map(l -> l.spec().name().replace(":", "").replace(",", "") + ": " + shortHash(l)).toList();
            sb.append(", Lora hashes: \"").append(String.join(", ", hashes)).append('"');
        }
        if (!edits.isEmpty()) {
            sb.append(", Edits: ").append(quote(String.join("; ", edits)));
        }
        sb.append(", Version: unetlens ").append(Versions.UNETLENS);
        return sb.toString();
    }

    /** A1111's {@code quote}: the text as it is, or as a JSON string if it holds a comma, colon or line break. */
    static String quote(String text) {
        if (text.indexOf(',') < 0 && text.indexOf(':') < 0 && text.indexOf('\n') < 0) {
            return text;
        }
        try {
            return JSON.writeValueAsString(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String a1111Sampler(String diffusersClass) {
        SchedulerKind k = SchedulerKind.fromDiffusersClass(diffusersClass);
        return switch (k) {
            case DDIM -> "DDIM";
            case PNDM -> "PLMS";
            case EULER -> "Euler";
            case EULER_ANCESTRAL -> "Euler a";
            case LMS -> "LMS";
            case DPMPP_2M -> "DPM++ 2M";
        };
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
