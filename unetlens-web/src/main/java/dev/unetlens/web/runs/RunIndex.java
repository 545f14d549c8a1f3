package dev.unetlens.web.runs;

import dev.unetlens.io.OutputDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Every run under --runs: directories that hold a {@code manifest.json} (or a run's partial files), found up to
 * {@value #MAX_DEPTH} levels down without following links. Summaries are cached by the manifest's size and time, so a
 * listing reads only the manifests that changed. A directory whose manifest cannot be read is listed with the reason,
 * never dropped and never an error of the listing.
 */
public final class RunIndex {
    static final int MAX_DEPTH = 3;
    private final RunsRoot root;
    private final Map<Path, Cached> cache = new ConcurrentHashMap<>();

    private record Cached(long size, long modified, RunSummary summary) {
    }

    public RunIndex(RunsRoot root) {
        this.root = root;
    }

    /** All runs, newest first. */
    public List<RunSummary> list() {
        List<RunSummary> out = new ArrayList<>();
        for (Path dir : runDirectories()) {
            out.add(summary(dir));
        }
        out.sort(Comparator.comparing((RunSummary r) -> r.created() == null ? "" : r.created()).reversed()
                .thenComparing(RunSummary::id));
        return out;
    }

    /** The summary of one run directory. */
    public RunSummary summary(Path dir) {
        String id = root.id(dir);
        Path manifest = dir.resolve(OutputDirectory.MANIFEST);
        try {
            BasicFileAttributes a = Files.readAttributes(manifest, BasicFileAttributes.class);
            Cached c = cache.get(dir);
            if (c != null && c.size == a.size() && c.modified == a.lastModifiedTime().toMillis()) {
                return c.summary;
            }
            RunSummary s = build(id, dir);
            cache.put(dir, new Cached(a.size(), a.lastModifiedTime().toMillis(), s));
            return s;
        } catch (IOException e) {
            return build(id, dir);
        }
    }

    private static RunSummary build(String id, Path dir) {
        try {
            Manifest m = Manifest.read(dir);
            return m.json().isMissingNode() ? RunSummary.unreadable(id, m.problem()) : RunSummary.of(id, m);
        } catch (RuntimeException e) {          // a manifest of a shape no one foresaw: listed, not fatal
            return RunSummary.unreadable(id, "cannot read the manifest: " + dev.unetlens.Messages.line(String.valueOf(e.getMessage())));
        }
    }

    /** Directories with a manifest or partial files, not following links, not descending into a run. */
    List<Path> runDirectories() {
        List<Path> out = new ArrayList<>();
        collect(root.path(), 0, out);
        return out;
    }

    /**
     * Adds the runs under {@code dir}; a folder one level down that holds files but neither a manifest nor runs is
     * added too, to be listed as not readable (a run that wrote nothing yet, or a stray folder).
     */
    private int collect(Path dir, int depth, List<Path> out) {
        if (depth > 0 && (Files.exists(dir.resolve(OutputDirectory.MANIFEST), LinkOption.NOFOLLOW_LINKS)
                || Manifest.hasPartialFiles(dir))) {
            out.add(dir);
            return 1;
        }
        if (depth >= MAX_DEPTH) {
            return 0;
        }
        int found = 0;
        boolean anyFile = false;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String name = p.getFileName().toString();
                if (!name.startsWith(".") && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    found += collect(p, depth + 1, out);
                } else if (!name.startsWith(".")) {
                    anyFile = true;
                }
            }
        } catch (IOException e) {
            anyFile = true;                                   // an unreadable folder: listed as such
        }
        if (depth == 1 && found == 0 && anyFile) {
            out.add(dir);
            return 1;
        }
        return found;
    }
}
