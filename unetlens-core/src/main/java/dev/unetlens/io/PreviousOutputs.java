package dev.unetlens.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.UnetlensException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What an earlier unetlens run left in an output directory, removed before a {@code --force} run writes its first
 * file: every file its {@code manifest.json} lists, the manifest, the folders of partial files an interrupted run
 * left ({@value OutputDirectory#PARTIAL_PREFIX}…, and the {@code .spool-}… of older versions), the hidden
 * {@code .part} files of atomic writes that never finished, and the folders this leaves empty. Files the manifest
 * does not list (the user's) stay.
 */
final class PreviousOutputs {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PreviousOutputs() {
    }

    /** Removes them, but not the folders in {@code keep} (this run's own); returns how many listed files were removed. */
    static int remove(Path dir, java.util.Collection<Path> keep) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try {
            List<Path> listed = listed(dir);
            if (listed == null) {
                listed = List.of();
            } else {
                Files.deleteIfExists(dir.resolve(OutputDirectory.MANIFEST));
            }
            TreeSet<Path> parents = new TreeSet<>(Comparator.comparingInt(Path::getNameCount).reversed()
                    .thenComparing(Comparator.naturalOrder()));
            for (Path p : listed) {
                Files.deleteIfExists(p);
                parents.add(p.getParent());
            }
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.filter(p -> leftover(p) && !keep.contains(p)).toList()) {
                    AtomicFiles.deleteTreeQuietly(p);
                    parents.add(p.getParent());
                }
            }
            for (Path p : parents) {
                deleteIfEmpty(dir, p);
            }
            return listed.size();
        } catch (IOException e) {
            throw new UnetlensException("cannot remove the earlier run's files in " + dir + ": " + IoErrors.reason(e)
                    + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The files the directory's manifest lists (each inside {@code dir}), or null when it has no unetlens manifest (none,
     * an unreadable one, or someone else's: then everything stays).
     */
    private static List<Path> listed(Path dir) {
        Path manifest = dir.resolve(OutputDirectory.MANIFEST);
        List<Path> out = new ArrayList<>();
        if (!Files.isRegularFile(manifest)) {
            return null;
        }
        JsonNode m;
        try {
            m = JSON.readTree(manifest.toFile());
        } catch (IOException e) {
            return null;
        }
        if (!"unetlens".equals(m.path("tool").asText())) {
            return null;
        }
        Path root = dir.toAbsolutePath().normalize();
        for (JsonNode f : m.path("files")) {
            Path p = root.resolve(f.path("file").asText("")).normalize();
            if (p.startsWith(root) && !p.equals(root) && Files.isRegularFile(p)) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Removes only the partial files a killed or interrupted run left (folders of partial files, unfinished atomic
     * writes), keeping every listed and every other file: what a resumed run starts with.
     */
    static void removeLeftovers(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(p -> !p.equals(dir) && leftover(p)).toList()) {
                AtomicFiles.deleteTreeQuietly(p);
            }
        } catch (IOException e) {
            throw new UnetlensException("cannot clean the earlier run's partial files in " + dir + ": " + IoErrors.reason(e), e);
        }
    }

    private static boolean leftover(Path p) {
        String n = p.getFileName().toString();
        return Files.isDirectory(p) ? n.startsWith(OutputDirectory.PARTIAL_PREFIX) || n.startsWith(".spool-")
                : n.startsWith(".") && n.endsWith(".part");
    }

    /** Deletes {@code p} and its parents up to (not including) {@code dir} while they are empty. */
    private static void deleteIfEmpty(Path dir, Path p) throws IOException {
        Path root = dir.toAbsolutePath().normalize();
        for (Path q = p.toAbsolutePath().normalize(); q != null && q.startsWith(root) && !q.equals(root); q = q.getParent()) {
            try (Stream<Path> s = Files.list(q)) {
                if (s.findAny().isPresent()) {
                    return;
                }
            } catch (java.nio.file.NoSuchFileException e) {
                continue;
            }
            Files.deleteIfExists(q);
        }
    }
}
