package dev.unetlens.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The first CPU's fields of /proc/cpuinfo ({@code vendor_id}, {@code model name}, {@code flags}, …): what the run
 * records name the CPU by and what the kernel choices (bf16, MKL's AVX-512 path) depend on.
 *
 * @param fields each field of the first processor's block, by name
 */
public record CpuInfo(Map<String, String> fields) {
    public CpuInfo {
        fields = Map.copyOf(fields);
    }

    /** This machine's; fails where there is no /proc/cpuinfo (not Linux). */
    public static CpuInfo read() throws IOException {
        return parse(Files.readAllLines(Path.of("/proc/cpuinfo")));
    }

    /** From the lines of /proc/cpuinfo: the first occurrence of each field. */
    public static CpuInfo parse(List<String> lines) {
        Map<String, String> first = new TreeMap<>();
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                first.putIfAbsent(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
            }
        }
        return new CpuInfo(first);
    }

    /** A field's value, "" where the first CPU has none. */
    public String field(String name) {
        return fields.getOrDefault(name, "");
    }

    /** {@code vendor_id}: "AuthenticAMD", "GenuineIntel". */
    public String vendor() {
        return field("vendor_id");
    }

    /** The feature flags, lower case. */
    public Set<String> flags() {
        String flags = field("flags");
        return flags.isEmpty() ? Set.of() : Set.of(flags.toLowerCase(Locale.ROOT).split("\\s+"));
    }
}
