package dev.unetlens.io;

import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Where unetlens keeps what it can rebuild (the bundled model, weight-file hashes): the system property
 * {@code unetlens.cache}, else {@code $UNETLENS_CACHE}, else {@code $XDG_CACHE_HOME/unetlens}, else
 * {@code ~/.cache/unetlens}.
 */
public final class CacheDir {
    private CacheDir() {
    }

    public static Path root() {
        String property = System.getProperty("unetlens.cache");
        if (property != null && !property.isBlank()) {
            return Paths.get(property);                      // tests and embedding applications
        }
        String explicit = System.getenv("UNETLENS_CACHE");
        if (explicit != null && !explicit.isBlank()) {
            return Paths.get(explicit);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Paths.get(xdg, "unetlens");
        }
        return Paths.get(System.getProperty("user.home"), ".cache", "unetlens");
    }
}
