package dev.unetlens.analysis.paper;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.io.Npy;
import dev.unetlens.io.OutputDirectory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@link PaperRun.Checkpoint} in an output directory: each finished image as {@code state/image-NNNNN.npz}
 * ({@link PaperState}) and the request as {@code state/request.json}. A resumed directory ({@link OutputDirectory#resume})
 * reads back the images an earlier run of the same request finished, each checked against the SHA-256 its manifest
 * recorded; {@link #clear} removes the state once the results are written.
 */
public final class PaperCheckpoint implements PaperRun.Checkpoint {
    static final String REQUEST = "state/request.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final OutputDirectory out;
    private final PaperRun.Options options;
    private final List<String> saved = new ArrayList<>();
    private int restored;

    /**
     * Opens the state of {@code out} for a run asking {@code request}; fails in one line when an earlier run there
     * asked for something else.
     */
    public PaperCheckpoint(OutputDirectory out, PaperRun.Options options, ObjectNode request) {
        this.out = out;
        this.options = options;
        ObjectNode earlier = out.inherited(REQUEST);
        if (earlier != null) {
            JsonNode before = read(out.resolve(REQUEST));
            if (!normalised(request).equals(before)) {
                throw new UnetlensException("cannot resume " + out.dir() + ": the earlier run asked for other images, modules"
                        + " or settings; give the same options, or --force to start over");
            }
        } else {
            out.write(REQUEST, o -> o.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(request)),
                    "what the images' state was computed for (a resumed run must ask the same)");
        }
    }

    /** The request as it reads back from JSON (a long 42 and an int 42 are different nodes). */
    private static JsonNode normalised(ObjectNode request) {
        try {
            return JSON.readTree(JSON.writeValueAsString(request));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode read(Path p) {
        try {
            return JSON.readTree(p.toFile());
        } catch (IOException e) {
            throw new UnetlensException("cannot resume: " + p + " is unreadable; --force starts over", e);
        }
    }

    static String name(int image) {
        return String.format(Locale.ROOT, "state/image-%05d.npz", image);
    }

    @Override
    public PaperState.ImageState load(int image, Map<String, MapShape> shapes, List<String> croppedModules) {
        String name = name(image);
        ObjectNode entry = out.inherited(name);
        if (entry == null) {
            return null;
        }
        Path p = out.resolve(name);
        if (!entry.path("sha256").asText().equals(OutputDirectory.sha256(p))) {
            return null;                                   // changed since: extract again
        }
        PaperState.ImageState s = PaperState.fromArrays(Npy.readNpz(p), image, options.sampling().points(), shapes,
                options.has(PaperRun.Experiment.GROUPS) && image < options.groupLimit(),
                options.has(PaperRun.Experiment.PROBE), croppedModules, p.toString());
        saved.add(name);
        restored++;
        return s;
    }

    @Override
    public void save(int image, PaperState.ImageState state) {
        String name = name(image);
        out.write(name, o -> Npy.writeNpz(o, PaperState.toArrays(state)),
                "image " + image + "'s maps, kept so that an interrupted run resumes (removed when the run completes)");
        saved.add(name);
    }

    /** Images read back from the earlier run. */
    public int restored() {
        return restored;
    }

    /** Removes the state: the results are written. */
    public void clear() {
        for (String name : saved) {
            out.delete(name);
        }
        out.delete(REQUEST);
    }
}
