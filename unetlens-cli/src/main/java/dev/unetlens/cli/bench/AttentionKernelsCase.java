package dev.unetlens.cli.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.model.AttentionKernel;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.SdpaKernel;
import dev.unetlens.synth.SyntheticModel.Component;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The attention core alone, {@link AttentionKernel#EXPLICIT} against {@link AttentionKernel#SDPA}, at the shapes the
 * U-Nets attend over: SD 1.5's largest self-attention at batch 1 and 2 (8 heads × 4096 tokens × 40), its
 * cross-attention to 77 text tokens, SDXL's 10 × 4096 × 64 and 20 × 1024 × 64, and two tiny shapes whose time is the
 * per-call overhead. Per shape: each kernel warmed up once, then {@code runs} calls of each, alternating so that the
 * machine's load hits both alike (medians); the peak-RSS rise of one call of each (the explicit kernel's chunked
 * scores are 16 MB; a kernel that held all T×S scores would rise by 4·B·N·T·S bytes); the largest difference
 * between the two outputs. Needs no model; {@code median_s} is SDPA's time at SD 1.5's 1 × 8 × 4096 × 40.
 */
record AttentionKernelsCase(int runs) implements BenchCase {
    /** One attention: batch, heads, queries, keys, head width; {@code calls} per timed run (tiny shapes: many). */
    record Core(long b, long n, long t, long s, long d, int calls) {
        String label() {
            return b + "×" + n + "×" + t + "×" + s + "×" + d;
        }
    }

    static final List<Core> SHAPES = List.of(
            new Core(1, 8, 4096, 4096, 40, 1), new Core(2, 8, 4096, 4096, 40, 1), new Core(2, 8, 4096, 77, 40, 1),
            new Core(1, 10, 4096, 4096, 64, 1), new Core(1, 20, 1024, 1024, 64, 1),
            new Core(1, 8, 16, 16, 40, 1000), new Core(1, 1, 1, 1, 8, 1000));

    @Override
    public String name() {
        return "attention_kernels";
    }

    @Override
    public String describe() {
        return "attention core, explicit vs fused SDPA, at SD 1.5 / SDXL shapes and tiny ones (per-call overhead)";
    }

    @Override
    public Set<Component> components() {
        return Set.of();
    }

    @Override
    public Workload open(DiffusersFolder model, NDManager manager) {
        return new SelfTimedWorkload() {
            public long params() {
                return 0;
            }

            public ObjectNode measure(Consumer<String> progress) {
                return AttentionKernelsCase.this.measure(manager, progress);
            }

            public void close() {
            }
        };
    }

    private ObjectNode measure(NDManager manager, Consumer<String> progress) {
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        if (!SdpaKernel.available()) {
            throw new IllegalStateException("the SDPA kernel is unavailable: " + SdpaKernel.unavailableReason());
        }
        ArrayNode rows = r.putArray("shapes");
        StringBuilder summary = new StringBuilder("explicit / sdpa:");
        for (Core c : SHAPES) {
            ObjectNode row = measure(c, manager);
            rows.add(row);
            progress.accept(String.format(Locale.ROOT, "%s: explicit %.4g s, sdpa %.4g s (%.2f×), peak RSS rise %.0f / %.0f MB",
                    c.label(), row.path("explicit_s").asDouble(), row.path("sdpa_s").asDouble(), row.path("ratio").asDouble(),
                    row.path("explicit_peak_rss_rise_mb").asDouble(), row.path("sdpa_peak_rss_rise_mb").asDouble()));
            summary.append(String.format(Locale.ROOT, " %s %.2f×", c.label(), row.path("ratio").asDouble()));
        }
        r.put("median_s", rows.get(0).path("sdpa_s").asDouble());
        r.put("summary", summary.toString());
        return r;
    }

    private ObjectNode measure(Core c, NDManager manager) {
        ObjectNode row = JsonNodeFactory.instance.objectNode();
        row.put("shape", c.label());
        row.put("calls_per_run", c.calls());
        try (ForwardScope scope = new ForwardScope()) {
            manager.getEngine().setRandomSeed((int) INPUT_SEED);
            NDArray q = manager.randomNormal(new Shape(c.b(), c.t(), c.n(), c.d())).transpose(0, 2, 1, 3); // Attention's head views
            NDArray k = manager.randomNormal(new Shape(c.b(), c.s(), c.n(), c.d())).transpose(0, 2, 1, 3);
            NDArray v = manager.randomNormal(new Shape(c.b(), c.s(), c.n(), c.d())).transpose(0, 2, 1, 3);
            float scale = (float) (1 / Math.sqrt(c.d()));
            for (AttentionKernel kernel : AttentionKernel.values()) {           // warm-up and peak-RSS rise
                row.put(kernel.label() + "_peak_rss_rise_mb", peakRise(() -> kernel.attend(q, k, v, scale)));
            }
            NDArray e = AttentionKernel.EXPLICIT.attend(q, k, v, scale);
            NDArray f = AttentionKernel.SDPA.attend(q, k, v, scale);
            row.put("max_abs_difference", e.sub(f).abs().max().getFloat());
            List<Double> explicit = new ArrayList<>();
            List<Double> sdpa = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                explicit.add(time(c, () -> AttentionKernel.EXPLICIT.attend(q, k, v, scale)));
                sdpa.add(time(c, () -> AttentionKernel.SDPA.attend(q, k, v, scale)));
            }
            row.put("explicit_s", BenchChild.median(explicit));
            row.put("sdpa_s", BenchChild.median(sdpa));
            row.put("ratio", BenchChild.median(explicit) / BenchChild.median(sdpa));
            ArrayNode er = row.putArray("explicit_runs_s");
            explicit.forEach(er::add);
            ArrayNode sr = row.putArray("sdpa_runs_s");
            sdpa.forEach(sr::add);
        }
        return row;
    }

    /** Seconds per call: {@code c.calls()} calls, each in its own scope (all it made freed at once). */
    private static double time(Core c, java.util.function.Supplier<NDArray> call) {
        long t0 = System.nanoTime();
        for (int i = 0; i < c.calls(); i++) {
            try (ForwardScope scope = new ForwardScope()) {
                call.get();
            }
        }
        return (System.nanoTime() - t0) / 1e9 / c.calls();
    }

    /** How far one call raises this process's peak RSS above its RSS before, MiB. */
    private static double peakRise(java.util.function.Supplier<NDArray> call) {
        ProcStatus.resetPeakRss();
        double before = ProcStatus.rssMb();
        try (ForwardScope scope = new ForwardScope()) {
            call.get();
        }
        return ProcStatus.peakRssMb() - before;
    }
}
