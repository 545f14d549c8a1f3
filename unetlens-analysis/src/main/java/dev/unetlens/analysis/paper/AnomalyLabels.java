package dev.unetlens.analysis.paper;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.UnetlensException;
import dev.unetlens.io.DType;
import dev.unetlens.io.InputFiles;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Anomaly locations at the reference module: the paper's labeller's {@code .npy} (integer rows (image index, x, y),
 * x the column and y the row of a 2×2 patch's upper-left token), or JSON: a list per image of {@code {"x": …, "y": …}}
 * — an array of such lists (by image index) or an object from image name to its list.
 */
public final class AnomalyLabels {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AnomalyLabels() {
    }

    /** One label: image index, column x, row y at the reference map. */
    public record Label(int image, int x, int y) {
    }

    /** Reads a label file; JSON object keys are looked up in {@code imageNames}. */
    public static List<Label> read(Path file, List<String> imageNames) {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return name.endsWith(".json") ? readJson(file, imageNames) : readNpy(file);
    }

    private static List<Label> readNpy(Path file) {
        InputFiles.requireRegular(file);
        NpyArray a = Npy.read(file);
        if (a.dtype().isFloat() || a.dtype() == DType.BOOL || a.dtype().name().startsWith("F8") || a.dtype() == DType.BF16) {
            throw new UnetlensException("--labels: " + file + " holds " + a.dtype() + "; the paper's labels are integers"
                    + " (image, x, y)");
        }
        long[] s = a.shape();
        if (s.length != 2 || s[1] != 3) {
            throw new UnetlensException("--labels: " + file + " has shape " + java.util.Arrays.toString(s)
                    + "; expected (N, 3) rows of (image index, x, y)");
        }
        long[] v = a.toLongs();
        List<Label> out = new ArrayList<>();
        for (int i = 0; i < s[0]; i++) {
            out.add(new Label(toInt(v[3 * i], file), toInt(v[3 * i + 1], file), toInt(v[3 * i + 2], file)));
        }
        return out;
    }

    private static int toInt(long v, Path file) {
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new UnetlensException("--labels: " + file + " holds " + v + ", not an image index or token position");
        }
        return (int) v;
    }

    private static List<Label> readJson(Path file, List<String> imageNames) {
        JsonNode root;
        try {
            root = JSON.readTree(InputFiles.readText(file));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UnetlensException("--labels: " + file + " is not valid JSON (" + e.getOriginalMessage() + ")", e);
        }
        List<Label> out = new ArrayList<>();
        if (root != null && root.isArray()) {
            for (int i = 0; i < root.size(); i++) {
                points(root.get(i), i, file, out);
            }
        } else if (root != null && root.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                var e = it.next();
                int i = imageNames.indexOf(e.getKey());
                if (i < 0) {
                    throw new UnetlensException("--labels: " + file + " names image '" + e.getKey() + "', which is not among"
                            + " the images (" + String.join(", ", imageNames.subList(0, Math.min(5, imageNames.size()))) + " …)");
                }
                points(e.getValue(), i, file, out);
            }
        } else {
            throw new UnetlensException("--labels: " + file + " must hold a list per image of {\"x\": …, \"y\": …}");
        }
        return out;
    }

    private static void points(JsonNode list, int image, Path file, List<Label> out) {
        if (!list.isArray()) {
            throw new UnetlensException("--labels: " + file + ": image " + image + " needs a list of {\"x\": …, \"y\": …}");
        }
        for (JsonNode p : list) {
            if (!p.path("x").canConvertToInt() || !p.path("y").canConvertToInt() || !p.path("x").isIntegralNumber()
                    || !p.path("y").isIntegralNumber()) {
                throw new UnetlensException("--labels: " + file + ": image " + image + " has " + p
                        + "; each label is {\"x\": column, \"y\": row} in whole tokens");
            }
            out.add(new Label(image, p.get("x").asInt(), p.get("y").asInt()));
        }
    }

    /** Every label names one of {@code images} images and a token of the reference map ({@code height × width}). */
    public static void check(List<Label> labels, int images, String reference, int height, int width) {
        for (Label l : labels) {
            if (l.image() < 0 || l.image() >= images) {
                throw new UnetlensException("--labels: label " + l + " names image " + l.image() + "; there are " + images
                        + " images (0–" + (images - 1) + ")");
            }
            if (l.x() < 0 || l.x() >= width || l.y() < 0 || l.y() >= height) {
                throw new UnetlensException("--labels: label (image " + l.image() + ", x " + l.x() + ", y " + l.y()
                        + ") is outside the " + height + "×" + width + " map of " + reference + " (x 0–" + (width - 1)
                        + ", y 0–" + (height - 1) + ")");
            }
        }
    }

    /** The paper's format: int64 (N, 3) rows of (image, x, y). */
    public static NpyArray toNpy(List<Label> labels) {
        long[] v = new long[labels.size() * 3];
        for (int i = 0; i < labels.size(); i++) {
            v[3 * i] = labels.get(i).image();
            v[3 * i + 1] = labels.get(i).x();
            v[3 * i + 2] = labels.get(i).y();
        }
        return NpyArray.ofLongs(new long[] {labels.size(), 3}, v);
    }
}
