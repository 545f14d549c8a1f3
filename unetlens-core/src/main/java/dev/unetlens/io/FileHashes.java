package dev.unetlens.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * SHA-256 of weight files for manifests, remembered in {@code <cache>/hashes.json} by absolute path, size and
 * modification time, so a multi-GB checkpoint is hashed once, not on every run.
 */
public final class FileHashes {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path cacheFile;

    public FileHashes(Path cacheDir) {
        this.cacheFile = cacheDir.resolve("hashes.json");
    }

    /** The hex SHA-256 of {@code file}, from the cache when its size and time match. */
    public synchronized String sha256(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        String key;
        try {
            BasicFileAttributes a = Files.readAttributes(abs, BasicFileAttributes.class);
            key = abs + "|" + a.size() + "|" + a.lastModifiedTime().toMillis();
        } catch (IOException e) {
            return OutputDirectory.sha256(file);
        }
        ObjectNode cache = load();
        if (cache.hasNonNull(key)) {
            return cache.get(key).asText();
        }
        String hash = OutputDirectory.sha256(file);
        cache.put(key, hash);
        try {
            AtomicFiles.writeBytes(cacheFile, JSON.writeValueAsBytes(cache));
        } catch (IOException | RuntimeException e) {
            // a cache that cannot be written only costs time next run
        }
        return hash;
    }

    private ObjectNode load() {
        try {
            if (Files.isRegularFile(cacheFile)) {
                var n = JSON.readTree(cacheFile.toFile());
                if (n instanceof ObjectNode o) {
                    return o;
                }
            }
        } catch (IOException e) {
            // unreadable cache: start afresh
        }
        return JSON.createObjectNode();
    }
}
