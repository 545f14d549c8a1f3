package dev.unetlens.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Facts about this process and machine from {@code /proc} (Linux); NaN / "unknown" elsewhere. */
public final class ProcStatus {
    private ProcStatus() {
    }

    /** Peak resident set size of this process so far ({@code VmHWM}), MiB. */
    public static double peakRssMb() {
        return statusKb("VmHWM:") / 1024.0;
    }

    /**
     * Lowers this process's peak RSS to its current RSS (Linux: 5 written to {@code /proc/self/clear_refs}), so that
     * a later {@link #peakRssMb} shows the peak of what ran in between. False where that is not possible.
     */
    public static boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | SecurityException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Current resident set size ({@code VmRSS}), MiB. */
    public static double rssMb() {
        return statusKb("VmRSS:") / 1024.0;
    }

    private static double statusKb(String key) {
        for (String line : lines("/proc/self/status")) {
            if (line.startsWith(key)) {
                return Double.parseDouble(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        }
        return Double.NaN;
    }

    /** The CPU model name of the first processor. */
    public static String cpuModel() {
        try {
            String name = dev.unetlens.model.CpuInfo.read().field("model name");
            return name.isEmpty() ? "unknown" : name;
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** Total memory, MiB. */
    public static double memTotalMb() {
        for (String line : lines("/proc/meminfo")) {
            if (line.startsWith("MemTotal:")) {
                return Double.parseDouble(line.substring(9).trim().split("\\s+")[0]) / 1024.0;
            }
        }
        return Double.NaN;
    }

    /** The 1-, 5- and 15-minute load averages. */
    public static double[] loadAverage() {
        List<String> l = lines("/proc/loadavg");
        if (l.isEmpty()) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN};
        }
        String[] f = l.getFirst().split("\\s+");
        return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])};
    }

    private static List<String> lines(String file) {
        try {
            return Files.readAllLines(Path.of(file));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}
