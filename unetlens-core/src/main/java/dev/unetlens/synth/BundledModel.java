package dev.unetlens.synth;

import dev.unetlens.UnetlensException;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The bundled tiny model, written deterministically on first use into the user's cache ({@link
 * dev.unetlens.io.CacheDir}). It is built in a
 * private temporary folder and renamed into place in one step, so concurrent first uses never see half a model.
 */
public final class BundledModel {
    /** Bump when the bundled model's configs, seed or weight rule change. */
    static final String VERSION = "1";
    static final long SEED = 20241;

    private BundledModel() {
    }

    /** The bundled model's folder, written now if it does not exist yet. */
    public static Path ensure() {
        return ensureIn(dev.unetlens.io.CacheDir.root().resolve("models"));
    }

    static Path ensureIn(Path models) {
        Path target = models.resolve(SyntheticModel.TINY_SD15.id() + "-v" + VERSION);
        if (Files.isRegularFile(target.resolve("model_index.json"))) {
            return target;
        }
        Path tmp = models.resolve(".tmp-" + UUID.randomUUID());
        try {
            Files.createDirectories(models);
            SyntheticModel.TINY_SD15.write(tmp, SEED);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                deleteTree(tmp);                       // another process finished first: use its copy
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            }
            return target;
        } catch (IOException e) {
            throw new UnetlensException("cannot write the bundled model under " + models + ": " + e.getMessage()
                    + " (set UNETLENS_CACHE to a writable folder)", e);
        } finally {
            if (Files.exists(tmp)) {
                try {
                    deleteTree(tmp);
                } catch (IOException ignored) {
                    // a leftover hidden temp folder is harmless
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
