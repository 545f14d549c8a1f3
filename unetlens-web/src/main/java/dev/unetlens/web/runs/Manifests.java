package dev.unetlens.web.runs;

import dev.unetlens.io.OutputDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Manifests and their catalogs, parsed once per version of the file (its size and time): a tile request reads a
 * few kilobytes of a tensor, not the whole manifest again. A manifest that cannot be read is not cached.
 */
public final class Manifests {
    private final Map<Path, Entry> cache = new ConcurrentHashMap<>();

    private record Entry(long size, long modified, Manifest manifest, Catalog catalog) {
    }

    /** The run's manifest, required to be readable (a 422 otherwise). */
    public Manifest manifest(Path dir) {
        return entry(dir).manifest;
    }

    /** The run's catalog of tensors, from a readable manifest (a 422 otherwise). */
    public Catalog catalog(Path dir) {
        return entry(dir).catalog;
    }

    private Entry entry(Path dir) {
        Path file = dir.resolve(OutputDirectory.MANIFEST);
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            a = null;
        }
        Entry hit = cache.get(dir);
        if (a != null && hit != null && hit.size == a.size() && hit.modified == a.lastModifiedTime().toMillis()) {
            return hit;
        }
        Manifest m = Manifest.read(dir);
        m.require();
        Entry e = new Entry(a == null ? -1 : a.size(), a == null ? -1 : a.lastModifiedTime().toMillis(), m, Catalog.of(m));
        if (a != null) {
            cache.put(dir, e);
        }
        return e;
    }
}
