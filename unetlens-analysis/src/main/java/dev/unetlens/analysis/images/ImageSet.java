package dev.unetlens.analysis.images;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.unetlens.UnetlensException;
import dev.unetlens.io.RgbImage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The images an analysis runs over, in order, read lazily: {@link #read} checks every file once up front (decoded
 * completely, so a damaged file fails before any model work) and keeps only names and sizes; {@link #images()}
 * decodes each again when the analysis reaches it, so memory holds one image at a time however many there are.
 */
public final class ImageSet {
    /**
     * One image.
     *
     * @param name   a unique, file-safe name (its path inside the folder it was found in, '/' as '_', no extension)
     * @param file   where it was read from, or null for an image made in memory
     * @param width  its width after preprocessing
     * @param height its height after preprocessing
     */
    public record Entry(String name, Path file, int width, int height) {
    }

    /** A file left out: unreadable (with {@code --skip-bad}) or refused by the preprocessing. */
    public record Skipped(Path file, String reason) {
    }

    private final List<Entry> entries;
    private final List<Skipped> skipped;
    private final Preprocess prep;
    private final List<RgbImage> inMemory;

    private ImageSet(List<Entry> entries, List<Skipped> skipped, Preprocess prep, List<RgbImage> inMemory) {
        this.entries = List.copyOf(entries);
        this.skipped = List.copyOf(skipped);
        this.prep = prep;
        this.inMemory = inMemory == null ? null : List.copyOf(inMemory);
    }

    /**
     * The images that {@code inputs} (files, or folders searched recursively in sorted order) name, prepared by
     * {@code prep}. An unreadable file fails with one line naming it, or, with {@code skipBad}, is left out and listed
     * in {@link #skipped()}. Fails when no image is left.
     */
    public static ImageSet read(List<Path> inputs, Preprocess prep, boolean skipBad) {
        if (inputs.isEmpty()) {
            throw new UnetlensException("give --images: image files or folders");
        }
        List<Entry> entries = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Path in : inputs) {
            List<Path> files = ImageFiles.expand(List.of(in));
            for (Path f : files) {
                RgbImage img;
                try {
                    img = ImageFiles.read(f);
                } catch (UnetlensException e) {
                    if (!skipBad) {
                        throw new UnetlensException(e.getMessage() + " (--skip-bad leaves such files out)", e);
                    }
                    skipped.add(new Skipped(f, e.getMessage()));
                    continue;
                }
                String reason = prep.skipReason(img.width(), img.height());
                if (reason != null) {
                    skipped.add(new Skipped(f, reason));
                    continue;
                }
                RgbImage p = prep.apply(img);
                String base = Files.isDirectory(in) ? in.relativize(f).toString() : f.getFileName().toString();
                entries.add(new Entry(unique(names, fileSafe(base)), f, p.width(), p.height()));
            }
        }
        if (entries.isEmpty()) {
            throw new UnetlensException(noImages(inputs, skipped));
        }
        return new ImageSet(entries, skipped, prep, null);
    }

    private static String noImages(List<Path> inputs, List<Skipped> skipped) {
        String where = inputs.size() == 1 ? inputs.getFirst().toString() : inputs.size() + " inputs";
        if (!skipped.isEmpty()) {
            return "no usable image in " + where + ": all " + skipped.size() + " left out (first: "
                    + skipped.getFirst().file() + ": " + skipped.getFirst().reason() + ")";
        }
        return "no images in " + where + " (searched recursively for " + ImageFiles.FORMATS + " files)";
    }

    /** Images already in memory (generated ones, tests), with their names. */
    public static ImageSet of(List<RgbImage> images, List<String> names) {
        if (images.isEmpty() || images.size() != names.size()) {
            throw new IllegalArgumentException(images.size() + " images and " + names.size() + " names");
        }
        List<Entry> entries = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < images.size(); i++) {
            RgbImage p = Preprocess.NONE.apply(images.get(i));
            entries.add(new Entry(unique(seen, fileSafe(names.get(i))), null, p.width(), p.height()));
        }
        return new ImageSet(entries, List.of(), Preprocess.NONE, images);
    }

    static String fileSafe(String relative) {
        String noExt = relative.replaceAll("\\.[^./\\\\]*$", "");
        String s = noExt.replace('\\', '/').replace('/', '_').replaceAll("[^A-Za-z0-9._-]", "_");
        return s.isEmpty() || s.startsWith(".") ? "image" + s : s;
    }

    private static String unique(Set<String> seen, String name) {
        String n = name;
        for (int k = 2; !seen.add(n); k++) {
            n = name + "-" + k;
        }
        return n;
    }

    public int size() {
        return entries.size();
    }

    public List<Entry> entries() {
        return entries;
    }

    public Entry entry(int i) {
        return entries.get(i);
    }

    public List<Skipped> skipped() {
        return skipped;
    }

    /** Image i, read and prepared now. */
    public RgbImage image(int i) {
        RgbImage img = inMemory != null ? inMemory.get(i) : ImageFiles.read(entries.get(i).file());
        return prep.apply(img);
    }

    /** The images as a list that reads each when it is asked for (nothing is kept). */
    public List<RgbImage> images() {
        return new AbstractList<>() {
            @Override
            public RgbImage get(int i) {
                return image(i);
            }

            @Override
            public int size() {
                return entries.size();
            }
        };
    }

    /** The images as the request records them: name, file, size. */
    public ArrayNode toJson() {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (Entry e : entries) {
            var o = a.addObject();
            o.put("name", e.name());
            if (e.file() != null) {
                o.put("file", e.file().toAbsolutePath().toString());
            }
            o.put("width", e.width());
            o.put("height", e.height());
        }
        return a;
    }

    /** The files left out and why. */
    public ArrayNode skippedJson() {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (Skipped s : skipped) {
            a.addObject().put("file", s.file().toAbsolutePath().toString()).put("reason", s.reason());
        }
        return a;
    }
}
