package dev.unetlens.io.ldm;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.OutputDirectory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The diffusers {@code config.json} contents of a checkpoint's components, either inferred from a single file
 * ({@link SingleFileCheckpoint#inferConfigs}) or read from a diffusers folder ({@link #read}) for a file whose
 * architecture LDM's rules cannot express. Accessors return copies.
 *
 * @param source       where the configs come from, for manifests and messages
 * @param unet         {@code unet/config.json}
 * @param vae          {@code vae/config.json}, null if the checkpoint has no VAE
 * @param textEncoder  {@code text_encoder/config.json}, null if absent (SDXL refiner)
 * @param textEncoder2 {@code text_encoder_2/config.json}, null if absent (SD 1.x/2.x)
 * @param scheduler    {@code scheduler/scheduler_config.json}, null if a folder has none
 * @param notes        settings that were guessed rather than read (prediction type, image size), one line each
 */
public record CheckpointConfigs(String source, ObjectNode unet, ObjectNode vae, ObjectNode textEncoder,
                                ObjectNode textEncoder2, ObjectNode scheduler, List<String> notes) {
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    public CheckpointConfigs {
        notes = List.copyOf(notes);
    }

    /** The configs of a diffusers folder (each component's {@code config.json}, the scheduler config). */
    public static CheckpointConfigs read(DiffusersFolder folder) {
        return new CheckpointConfigs(folder.root().toString(),
                node(folder, "unet"), node(folder, "vae"), node(folder, "text_encoder"), node(folder, "text_encoder_2"),
                node(folder, "scheduler"), List.of());
    }

    private static ObjectNode node(DiffusersFolder folder, String component) {
        return folder.hasComponent(component) ? JsonConfig.read(folder.config(component)).node() : null;
    }

    @Override
    public ObjectNode unet() {
        return copy(unet);
    }

    @Override
    public ObjectNode vae() {
        return copy(vae);
    }

    @Override
    public ObjectNode textEncoder() {
        return copy(textEncoder);
    }

    @Override
    public ObjectNode textEncoder2() {
        return copy(textEncoder2);
    }

    @Override
    public ObjectNode scheduler() {
        return copy(scheduler);
    }

    private static ObjectNode copy(ObjectNode n) {
        return n == null ? null : n.deepCopy();
    }

    /** The config of a component, for the typed readers ({@code VaeConfig.from(configs.json(VAE))}). */
    public JsonConfig json(LdmComponent c) {
        ObjectNode n = switch (c) {
            case UNET -> unet;
            case VAE -> vae;
            case TEXT_ENCODER -> textEncoder;
            case TEXT_ENCODER_2 -> textEncoder2;
        };
        if (n == null) {
            throw new UnetlensException(source + ": has no " + c + " config");
        }
        return new JsonConfig(source + " [" + c + "]", n.deepCopy());
    }

    /** Each present config under its path in the diffusers layout ({@code unet/config.json}, ...), in order. */
    public Map<String, ObjectNode> files() {
        Map<String, ObjectNode> files = new LinkedHashMap<>();
        put(files, "unet/config.json", unet);
        put(files, "vae/config.json", vae);
        put(files, "text_encoder/config.json", textEncoder);
        put(files, "text_encoder_2/config.json", textEncoder2);
        put(files, "scheduler/scheduler_config.json", scheduler);
        return files;
    }

    private static void put(Map<String, ObjectNode> files, String path, ObjectNode n) {
        if (n != null) {
            files.put(path, n.deepCopy());
        }
    }

    /**
     * Writes the configs into {@code out} under {@code dir} in the diffusers layout ({@code dir/unet/config.json},
     * ...), each recorded in the manifest with its source and the notes, so a run's outputs say which architecture
     * they were computed with.
     */
    public void writeTo(OutputDirectory out, String dir) {
        for (Map.Entry<String, ObjectNode> f : files().entrySet()) {
            byte[] bytes = json(f.getValue());
            ObjectNode entry = out.write(dir + "/" + f.getKey(), o -> o.write(bytes), "diffusers config, " + source);
            notes.forEach(entry.putArray("notes")::add);
        }
        out.saveManifest();
    }

    private static byte[] json(ObjectNode n) {
        try {
            return (JSON.writeValueAsString(n) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UnetlensException("cannot serialise a config: " + e.getOriginalMessage(), e);
        }
    }
}
