package dev.unetlens.viz;

import dev.unetlens.io.Png;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.io.OutputDirectory;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A rendered picture and what its manifest entry records about it.
 *
 * @param image       the pixels (RGB)
 * @param kind        what kind of picture: {@code feature-grid}, {@code reduced-map}, {@code step-strip},
 *                    {@code unet-overview}, {@code cross-attention-grid}, {@code word-heat-map},
 *                    {@code self-attention}, {@code pca-rgb}, {@code cosine-similarity}, {@code token-norms}
 * @param description one line for people ("down_blocks.1 · step 5 · channels 0–255")
 * @param fields      what made it (module, step, timestep, shape, colorizer, ...), JSON-serialisable values
 */
public record Picture(BufferedImage image, String kind, String description, Map<String, Object> fields) {
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    public Picture {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    public int width() {
        return image.getWidth();
    }

    public int height() {
        return image.getHeight();
    }

    /**
     * Writes {@code name} (".png" added if missing) into the run's output directory and records it in the
     * manifest with {@code kind}, {@code width}, {@code height} and every field; returns the manifest entry.
     */
    public ObjectNode write(OutputDirectory out, String name) {
        String file = name.endsWith(".png") ? name : name + ".png";
        ObjectNode entry = out.write(file, this::writePng, description);
        entry.put("kind", kind);
        entry.put("width", width());
        entry.put("height", height());
        for (Map.Entry<String, Object> f : fields.entrySet()) {
            entry.set(f.getKey(), toJson(f.getValue()));
        }
        out.saveManifest();
        return entry;
    }

    /** The PNG bytes, with kind and description as UTF-8 text chunks ({@link Png}). */
    public void writePng(OutputStream out) throws IOException {
        Map<String, String> text = new LinkedHashMap<>();
        text.put("Title", kind);
        text.put("Description", description);
        text.put("Software", "unetlens");
        Png.write(image, out, text);
    }

    static JsonNode toJson(Object value) {
        return JSON.valueToTree(value);
    }
}
