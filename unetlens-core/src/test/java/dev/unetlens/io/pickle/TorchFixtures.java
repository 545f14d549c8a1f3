package dev.unetlens.io.pickle;

import java.nio.file.Files;
import java.nio.file.Path;

/** {@code testdata/ckpt-fixtures}: checkpoints written by Debian's python3-torch ({@code make.py} there). */
final class TorchFixtures {
    private TorchFixtures() {
    }

    static Path dir() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path c = d.resolve("testdata/ckpt-fixtures");
            if (Files.isRegularFile(c.resolve("cases.json"))) {
                return c;
            }
        }
        throw new IllegalStateException("no testdata/ckpt-fixtures above " + Path.of("").toAbsolutePath());
    }
}
