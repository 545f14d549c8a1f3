package dev.unetlens.cli.bench;

import dev.unetlens.model.HookTable;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Where a forward's time goes, per kind of module, measured with the model's own hook points: a listener on every
 * module output reads the clock, and the time since the previous point is charged to the point that ends it. That
 * is a leaf module's own time plus the unhooked work just before it (the SiLU before a resnet's conv, the attention
 * core — Q·Kᵀ, softmax, probs·V, head reshapes — before {@code to_out}); a container's point gets only what it does
 * after its last child (a residual add). Kinds are paths with the block and layer numbers taken out
 * ({@code attentions.transformer_blocks.attn1.to_out}), so every resnet's conv1 adds up in one row; a row per kind and
 * module class, since a kind can name two ({@code ff.net}: the GEGLU at {@code ff.net.0}, the Linear at {@code ff.net.2}).
 *
 * <p>Memory the same way: the process's peak RSS ({@code VmHWM}) is read at every point, and each rise is charged to
 * the point that ends it, so the rows that raise the high-water mark show where the peak is made (a resnet's SiLU at
 * 512×512 in the VAE, say, shows under its {@code conv1}).
 *
 * <p>Costs nothing unless installed (it is a debug tool of {@code unetlens bench --profile}); installed, it adds a
 * clock read per hook point, and its listeners are seen by modules as listening (fast paths that must not run
 * under a listener are skipped), so compare its total with the unprofiled time. {@code :probs} points are left
 * alone: listening there would make attention materialise its probabilities.
 */
final class BlockProfile implements AutoCloseable {
    private static final Pattern LEVEL = Pattern.compile("^(down_blocks|up_blocks)\\.\\d+\\.|^mid_block\\.|^(encoder|decoder)\\.|^text_model\\.encoder\\.layers\\.\\d+\\.");
    private static final Pattern INDEX = Pattern.compile("\\.\\d+(?=\\.|$|:)");

    private final HookTable table;
    private final List<Integer> slots = new ArrayList<>();
    private final Map<String, Row> rows = new LinkedHashMap<>();
    private long last;
    private long start;
    private double lastPeakMb;

    /**
     * One kind of point of one module class (a kind can hold several: {@code ff.net} is GEGLU at {@code ff.net.0} and
     * Linear at {@code ff.net.2}): its time, how often it fired, and the rises of the peak RSS.
     */
    record Row(String kind, String className, long[] nanosAndCount, double[] peakRiseMb) {
        double seconds() {
            return nanosAndCount[0] / 1e9;
        }

        /** MiB by which the process's peak RSS rose in the stretches ending at this kind's points. */
        double peakRssRiseMb() {
            return peakRiseMb[0];
        }

        long count() {
            return nanosAndCount[1];
        }
    }

    BlockProfile(HookTable table) {
        this.table = table;
        for (HookTable.PointInfo p : table.points()) {
            if (p.name().endsWith(":probs")) {
                continue;
            }
            Row row = rows.computeIfAbsent(kind(p.name()) + " " + className(p),   // ff.net.0 (GEGLU), ff.net.2 (Linear)
                    k -> new Row(kind(p.name()), className(p), new long[2], new double[1]));
            if (table.listener(p.slot()) != null) {
                throw new IllegalStateException("profiling needs a model with no listeners, " + p.name() + " has one");
            }
            table.setListener(p.slot(), (point, in, out, ctx) -> {
                long now = System.nanoTime();
                row.nanosAndCount[0] += now - last;
                row.nanosAndCount[1]++;
                double peak = ProcStatus.peakRssMb();
                row.peakRiseMb[0] += Math.max(0, peak - lastPeakMb);
                lastPeakMb = Math.max(lastPeakMb, peak);
                last = System.nanoTime();                                       // the /proc read is not charged
                return out;
            });
            slots.add(p.slot());
        }
    }

    /** A point's kind: its path without block prefixes and layer numbers. */
    static String kind(String name) {
        if (name.isEmpty()) {
            return "(output)";
        }
        String k = INDEX.matcher(LEVEL.matcher(name).replaceFirst("")).replaceAll("");
        return k.isEmpty() ? name : k;
    }

    /** The class of the module a point belongs to, or {@code (extra point)} for a point inside a module. */
    static String className(HookTable.PointInfo p) {
        return p.output() ? p.module().typeName() : "(extra point)";
    }

    /** Starts the clock; call right before the forward. */
    void start() {
        lastPeakMb = ProcStatus.peakRssMb();
        start = System.nanoTime();
        last = start;
    }

    /** Seconds from {@link #start} to the last point. */
    double total() {
        return (last - start) / 1e9;
    }

    /** The kinds that fired, most expensive first. */
    List<Row> rows() {
        return rows.values().stream().filter(r -> r.count() > 0)
                .sorted(Comparator.comparingLong((Row r) -> r.nanosAndCount[0]).reversed()).toList();
    }

    /** The kinds whose stretches raised the peak RSS, most first. */
    List<Row> peakRisers() {
        return rows.values().stream().filter(r -> r.peakRssRiseMb() > 0)
                .sorted(Comparator.comparingDouble(Row::peakRssRiseMb).reversed()).toList();
    }

    /** The time per module class (Conv2d, Linear, GroupNorm, …), most expensive first. */
    List<Map.Entry<String, Double>> byClass() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (Row r : rows.values()) {
            m.merge(r.className(), r.seconds(), Double::sum);
        }
        return m.entrySet().stream().filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed()).toList();
    }

    @Override
    public void close() {
        for (int slot : slots) {
            table.setListener(slot, null);
        }
    }
}
