package dev.unetlens.web.labels;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.io.AtomicFiles;
import dev.unetlens.io.DType;
import dev.unetlens.io.IoErrors;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.web.ApiError;
import dev.unetlens.web.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Labels on disk: {@value #FILE} in the run's directory, rewritten atomically (a temporary file renamed over it) on
 * every change, so a crash leaves the old labels or the new, never half. Converts to and from the paper's
 * {@code .npy}: an integer array [N, 3] of (image index, x, y).
 */
public final class LabelStore {
    public static final String FILE = "anomaly-labels.json";
    /** Tokens lie on maps of at most this side (SDXL at 4096² has 512² latents). */
    static final int MAX_SIDE = 4096;

    private LabelStore() {
    }

    public static Labels read(Path runDir, List<String> images) {
        Path f = runDir.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            return new Labels(images, List.of());
        }
        try {
            return fromJson(Json.MAPPER.readTree(Files.readAllBytes(f)), images);
        } catch (IOException e) {
            throw ApiError.unreadable(FILE + " cannot be read (" + IoErrors.reason(e) + "); move it away to start afresh");
        }
    }

    public static void write(Path runDir, Labels labels) {
        AtomicFiles.writeBytes(runDir.resolve(FILE), toJson(labels).toPrettyString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    public static ObjectNode toJson(Labels l) {
        ObjectNode o = Json.object().put("format", "unetlens anomaly labels")
                .put("what", "upper-left token (x = column, y = row) of each 2x2 high-norm anomaly");
        o.set("images", Json.MAPPER.valueToTree(l.images()));
        ArrayNode a = o.putArray("labels");
        for (Labels.Label x : l.labels()) {
            a.addObject().put("image", x.image()).put("index", l.images().indexOf(x.image())).put("x", x.x()).put("y", x.y());
        }
        o.set("counts", Json.MAPPER.valueToTree(l.counts()));
        return o;
    }

    /** Labels from JSON ({@code {"labels": [{"image", "x", "y"}]}}); each checked, the first bad one a 400. */
    public static Labels fromJson(JsonNode json, List<String> images) {
        JsonNode list = json.path("labels");
        if (!list.isArray()) {
            throw ApiError.badParameter("labels", "the labels must be a JSON object with a list 'labels' of {image, x, y}");
        }
        List<Labels.Label> out = new ArrayList<>();
        int i = 0;
        for (JsonNode n : list) {
            String image = n.path("image").asText("");
            if (!images.contains(image)) {
                throw ApiError.badParameter("labels", "label " + i + ": this run has no image '" + image + "'");
            }
            out.add(new Labels.Label(image, coordinate(n.path("x"), "x", i), coordinate(n.path("y"), "y", i)));
            i++;
        }
        return new Labels(images, dedupe(out));
    }

    private static int coordinate(JsonNode n, String name, int i) {
        if (!n.canConvertToInt() || n.asInt() < 0 || n.asInt() >= MAX_SIDE || !n.isIntegralNumber()) {
            throw ApiError.badParameter("labels", "label " + i + ": " + name + " must be an integer in [0, "
                    + (MAX_SIDE - 1) + "], got " + n);
        }
        return n.asInt();
    }

    /** The paper's .npy: int64 [N, 3] of (image index, x, y). */
    public static byte[] toNpy(Labels l) {
        long[] v = new long[3 * l.labels().size()];
        int i = 0;
        for (Labels.Label x : l.labels()) {
            v[i++] = l.images().indexOf(x.image());
            v[i++] = x.x();
            v[i++] = x.y();
        }
        return Npy.toBytes(NpyArray.ofLongs(new long[] {l.labels().size(), 3}, v));
    }

    /** Labels from the paper's .npy: any integer dtype, shape [N, 3] (or [0]); indices must name the run's images. */
    public static Labels fromNpy(byte[] bytes, List<String> images) {
        NpyArray a;
        try {
            a = Npy.parse(ByteBuffer.wrap(bytes), "labels .npy");
        } catch (RuntimeException e) {
            throw ApiError.badParameter("file", dev.unetlens.Messages.line(String.valueOf(e.getMessage())));
        }
        long[] s = a.shape();
        boolean empty = NpyArray.elementCount(s) == 0;
        if (!empty && (s.length != 2 || s[1] != 3)) {
            throw ApiError.badParameter("file", "the labels .npy must have shape [N, 3] of (image, x, y), got "
                    + java.util.Arrays.toString(s));
        }
        if (a.dtype().isFloat() || a.dtype() == DType.BOOL) {
            throw ApiError.badParameter("file", "the labels .npy must hold integers, got " + a.dtype());
        }
        long[] v = empty ? new long[0] : a.toLongs();
        List<Labels.Label> out = new ArrayList<>();
        for (int i = 0; i < v.length / 3; i++) {
            long img = v[3 * i];
            long x = v[3 * i + 1];
            long y = v[3 * i + 2];
            if (img < 0 || img >= images.size()) {
                throw ApiError.badParameter("file", "row " + i + ": image index " + img + " is not in [0, "
                        + (images.size() - 1) + "]");
            }
            if (x < 0 || x >= MAX_SIDE || y < 0 || y >= MAX_SIDE) {
                throw ApiError.badParameter("file", "row " + i + ": (x, y) = (" + x + ", " + y + ") is off any map");
            }
            out.add(new Labels.Label(images.get((int) img), (int) x, (int) y));
        }
        return new Labels(images, dedupe(out));
    }

    private static List<Labels.Label> dedupe(List<Labels.Label> l) {
        return List.copyOf(new java.util.LinkedHashSet<>(l));
    }
}
