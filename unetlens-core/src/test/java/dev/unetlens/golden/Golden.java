package dev.unetlens.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The golden fixture set: where it is, its {@code index.json}, and reading its files with a record of what was
 * read. The root is {@code -Dunetlens.golden=DIR}, else {@code testdata/golden} of this repository. Tests discover
 * models and cases from the index and the folder layout, never from hard-coded names.
 */
public final class Golden {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> READ = ConcurrentHashMap.newKeySet();
    private static volatile Golden instance;

    private final Path root;
    private final List<Entry> entries;
    private final List<String> absent;

    /**
     * One fixture file of the index.
     *
     * @param file   path relative to the root
     * @param kind   the case kind it belongs to (see {@link #kindOf})
     * @param module the U-Net / VAE module it is the output of, or null
     * @param node   the whole index entry
     */
    public record Entry(String file, String kind, String module, JsonNode node) {
        /** The model directory name for {@code cases/<model>/...} files, else null. */
        public String model() {
            String[] p = file.split("/");
            return p[0].equals("cases") && p.length > 2 ? p[1] : null;
        }

        public long[] shape() {
            JsonNode s = node.get("shape");
            long[] out = new long[s == null ? 0 : s.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = s.get(i).asLong();
            }
            return out;
        }
    }

    private Golden(Path root) {
        this.root = root;
        try {
            JsonNode index = JSON.readTree(root.resolve("index.json").toFile());
            List<Entry> list = new ArrayList<>();
            List<String> missing = new ArrayList<>();
            for (JsonNode e : index.get("entries")) {
                String file = e.get("file").asText();
                String module = e.hasNonNull("module") ? e.get("module").asText() : null;
                if (Files.exists(root.resolve(file))) {
                    list.add(new Entry(file, kindOf(file), module, e));
                } else {
                    missing.add(file);   // a fixture set with a model removed keeps its index: skip what is gone
                }
            }
            this.entries = List.copyOf(list);
            this.absent = List.copyOf(missing);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read golden index.json under " + root, e);
        }
    }

    /** The fixture set the tests run on. */
    public static Golden get() {
        Golden g = instance;
        if (g == null) {
            synchronized (Golden.class) {
                if (instance == null) {
                    instance = new Golden(findRoot());
                }
                g = instance;
            }
        }
        return g;
    }

    private static Path findRoot() {
        String prop = System.getProperty("unetlens.golden");
        if (prop != null && !prop.isBlank()) {
            Path p = Paths.get(prop).toAbsolutePath().normalize();
            if (!Files.isRegularFile(p.resolve("index.json"))) {
                throw new IllegalStateException("-Dunetlens.golden=" + prop + " has no index.json");
            }
            return p;
        }
        for (Path d = Paths.get("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path c = d.resolve("testdata/golden");
            if (Files.isRegularFile(c.resolve("index.json"))) {
                return c;
            }
        }
        throw new IllegalStateException("no golden fixtures: set -Dunetlens.golden=DIR or run inside the repository");
    }

    /**
     * The case kind of a fixture path: {@code cases/<model>/<kind>/...} gives {@code <kind>} (the half-weight
     * cases are split by component: {@code half_weights/unet}, ...); {@code schedulers}, {@code torch_rng} and
     * {@code models} are kinds of their own, except pickled checkpoints ({@code models/…/*.ckpt}: {@code models/ckpt});
     * {@code cases/<model>/tolerances.json} is {@code tolerances}.
     */
    public static String kindOf(String file) {
        String[] p = file.split("/");
        if (p[0].equals("models") && file.endsWith(".ckpt")) {
            return "models/ckpt";
        }
        if (!p[0].equals("cases")) {
            return p[0];
        }
        if (p.length == 3) {
            return p[2].replace(".json", "");
        }
        if (p[2].equals("half_weights")) {
            String f = p[3];
            return f.startsWith("unet") ? "half_weights/unet"
                    : f.startsWith("vae") ? "half_weights/vae"
                    : f.startsWith("text_encoder") ? "half_weights/text_encoder" : "half_weights";
        }
        return p[2];
    }

    public Path root() {
        return root;
    }

    /** Index entries whose files are not on disk (a fixture set with a model removed), reported by the coverage test. */
    public List<String> absent() {
        return absent;
    }

    public List<Entry> entries() {
        return entries;
    }

    public Stream<Entry> entries(String kind) {
        return entries.stream().filter(e -> e.kind().equals(kind));
    }

    /**
     * The run directories of {@code kind} in the index: folders holding a file named {@code marker}
     * ({@code schedulers/eps/ddim_10} for {@code meta.json}), sorted.
     */
    public List<String> runs(String kind, String marker) {
        String tail = "/" + marker;
        return entries(kind).map(Entry::file).filter(f -> f.endsWith(tail))
                .map(f -> f.substring(0, f.length() - tail.length())).sorted().toList();
    }

    /**
     * One dynamic test per run of {@code kind} holding {@code marker} (see {@link #runs}), named by the run; fails when
     * the index has none, so a fixture set without them cannot pass by testing nothing.
     */
    public Stream<org.junit.jupiter.api.DynamicTest> perRun(String kind, String marker,
                                                           java.util.function.Consumer<String> check) {
        List<String> found = runs(kind, marker);
        if (found.isEmpty()) {
            throw new AssertionError("no " + kind + " runs with " + marker + " in the index of " + root);
        }
        return found.stream().map(r -> org.junit.jupiter.api.DynamicTest.dynamicTest(r, () -> check.accept(r)));
    }

    /** Model directories under {@code models/} that hold a {@code model_index.json}. */
    public List<String> models() {
        try (Stream<Path> s = Files.list(root.resolve("models"))) {
            return s.filter(p -> Files.isRegularFile(p.resolve("model_index.json")))
                    .map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Models that have a {@code cases/<model>/<kind>} folder. */
    public List<String> modelsWith(String kind) {
        return models().stream().filter(m -> Files.isDirectory(root.resolve("cases").resolve(m).resolve(kind))).toList();
    }

    public Path path(String relative) {
        return root.resolve(relative);
    }

    public boolean exists(String relative) {
        return Files.exists(root.resolve(relative));
    }

    /** Reads an {@code .npy} fixture and records it as read. */
    public NpyArray npy(String relative) {
        NpyArray a = Npy.read(root.resolve(relative));
        READ.add(relative);
        return a;
    }

    /** Reads a JSON fixture and records it as read. */
    public JsonNode json(String relative) {
        try {
            JsonNode n = JSON.readTree(root.resolve(relative).toFile());
            READ.add(relative);
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Records a fixture as used by a test that reads it some other way (a PNG, a weight file). */
    public Path use(String relative) {
        READ.add(relative);
        return root.resolve(relative);
    }

    /** Files of {@code kind} (optionally restricted to one model) that no test has read yet in this JVM. */
    public List<String> unread(String kind, String model) {
        return entries(kind)
                .filter(e -> model == null || model.equals(e.model()))
                .map(Entry::file)
                .filter(f -> !READ.contains(f))
                .sorted()
                .toList();
    }
}
