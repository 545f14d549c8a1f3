package dev.unetlens.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The process's loaded libraries and mappings, from /proc/self/maps. */
final class NativeLibraries {
    private NativeLibraries() {
    }

    /** The path of a loaded library named {@code name}; null if it is not mapped (or no procfs). */
    static Path loaded(String name) throws IOException {
        try (Stream<String> lines = maps()) {
            return lines == null ? null : lines.map(l -> l.substring(l.indexOf('/') < 0 ? l.length() : l.indexOf('/')))
                    .filter(p -> p.endsWith("/" + name)).findFirst().map(Path::of).orElse(null);
        }
    }

    /** Whether [address, address + bytes) lies in one mapping with write permission. */
    static boolean writable(long address, long bytes) throws IOException {
        try (Stream<String> lines = maps()) {
            return lines != null && lines.anyMatch(l -> covers(l, address, bytes) && l.split("\\s+")[1].charAt(1) == 'w');
        }
    }

    /** Whether a maps line ({@code start-end perms …}, hexadecimal) covers the range. */
    static boolean covers(String mapsLine, long address, long bytes) {
        String range = mapsLine.substring(0, mapsLine.indexOf(' '));
        long start = Long.parseUnsignedLong(range.substring(0, range.indexOf('-')), 16);
        long end = Long.parseUnsignedLong(range.substring(range.indexOf('-') + 1), 16);
        return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address + bytes, end) <= 0;
    }

    private static Stream<String> maps() throws IOException {
        Path maps = Path.of("/proc/self/maps");
        return Files.isReadable(maps) ? Files.lines(maps) : null;
    }
}
