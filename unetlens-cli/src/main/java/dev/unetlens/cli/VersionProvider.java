package dev.unetlens.cli;

import dev.unetlens.io.Versions;
import picocli.CommandLine;

final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {
            "unetlens " + Versions.UNETLENS,
            "DJL " + Versions.DJL + " with libtorch " + Versions.LIBTORCH + " (CPU), Java " + Runtime.version()
        };
    }
}
