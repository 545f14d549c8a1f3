package dev.unetlens.io;

import dev.unetlens.UnetlensException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A reader sees the old file or the whole new one: never a part, never a leftover temporary file. */
class AtomicFilesTest {
    @TempDir
    Path dir;

    private void assertOnlyFiles(Path... expected) throws IOException {
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactlyInAnyOrder(expected);
        }
    }

    @Test
    void failingBodyLeavesNeitherTargetNorTemporaryFile() throws IOException {
        Path target = dir.resolve("out.bin");
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            out.write(new byte[100_000]);
            throw new IOException("disk full");
        })).isInstanceOf(UnetlensException.class).hasMessageContaining("disk full").hasMessageContaining(target.toString());
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            out.write(1);
            throw new IllegalStateException("bug");
        })).isExactlyInstanceOf(IllegalStateException.class);
        assertOnlyFiles();
    }

    @Test
    void existingTargetIsReplacedOnlyOnSuccess() throws IOException {
        Path target = dir.resolve("model.bin");
        AtomicFiles.writeString(target, "old");
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            out.write("new but".getBytes());
            throw new IOException("interrupted");
        })).isInstanceOf(UnetlensException.class);
        assertThat(Files.readString(target)).isEqualTo("old");
        assertOnlyFiles(target);
        AtomicFiles.writeBytes(target, "new".getBytes());
        assertThat(Files.readString(target)).isEqualTo("new");
        assertOnlyFiles(target);
    }

    @Test
    void newFilesGetTheUsualPermissionsNotTemporaryFilePermissions() throws IOException {
        // Files.createTempFile makes 0600 files; a written model must read like any other new file
        Path probe = Files.createFile(dir.resolve("probe"));
        Path target = dir.resolve("shared.bin");
        AtomicFiles.writeString(target, "x");
        assertThat(Files.getPosixFilePermissions(target)).isEqualTo(Files.getPosixFilePermissions(probe));
    }

    @Test
    void bodyMayCloseTheStream() throws IOException {
        Path target = dir.resolve("closed.txt");
        AtomicFiles.write(target, out -> {
            out.write("done".getBytes());
            out.close();
        });
        assertThat(Files.readString(target)).isEqualTo("done");
    }

    @Test
    void longNamesAndMissingFoldersWork() throws IOException {
        Path ascii = dir.resolve("a".repeat(250));
        Path unicode = dir.resolve("deep/er/" + "日".repeat(80));   // 240 bytes of UTF-8
        AtomicFiles.writeString(ascii, "1");
        AtomicFiles.writeString(unicode, "2");
        assertThat(Files.readString(ascii)).isEqualTo("1");
        assertThat(Files.readString(unicode)).isEqualTo("2");
        try (var files = Files.list(unicode.getParent())) {
            assertThat(files).containsExactly(unicode);
        }
    }
}
