package dev.unetlens.cli;

import dev.unetlens.io.OutputDirectory;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --out DIR [--force]}, shared by every command that writes files. */
public final class OutputOptions {
    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "Directory to write into (created; must be empty unless --force).")
    Path out;

    @Option(names = "--force", description = "Replace the outputs of an earlier unetlens run in --out (other files are kept).")
    boolean force;

    OutputDirectory open(String command) {
        return OutputDirectory.open(out, command, force);
    }
}
