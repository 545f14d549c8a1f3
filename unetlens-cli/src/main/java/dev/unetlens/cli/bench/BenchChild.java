package dev.unetlens.cli.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.model.AttentionKernel;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.HookTable;
import dev.unetlens.model.TorchRuntime;
import dev.unetlens.model.check.ComputeRecord;
import dev.unetlens.model.check.KernelChecks;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One bench case in this (fresh) JVM: load the component once, one warm-up evaluation, {@code runs} timed ones,
 * each in its own {@link ForwardScope}; then the optional extra measurements; then one result line on stdout,
 * {@link #RESULT_PREFIX} + JSON, whose {@code peak_rss_mb} is this process's {@code VmHWM} at the end. Progress
 * goes to stderr.
 */
public final class BenchChild {
    /** Marks the child's result line among anything else it prints on stdout. */
    public static final String RESULT_PREFIX = "unetlens-bench-result ";
    private static final ObjectMapper JSON = new ObjectMapper();

    private BenchChild() {
    }

    /**
     * What to measure besides the timed runs.
     *
     * @param runs         timed evaluations after the warm-up
     * @param hookPairs    detached / attached-without-listeners evaluation pairs, alternating (0: none)
     * @param memoryChecks extra evaluations recording RSS and live NDArrays after each (0: none)
     * @param profile      one extra evaluation timed per module kind ({@link BlockProfile})
     * @param torchProfile where to write libtorch's op-level profiler trace of one extra evaluation, or null
     * @param attentionPairs explicit / SDPA evaluation pairs in this JVM, alternating (0: none)
     */
    public record Options(int runs, int hookPairs, int memoryChecks, boolean profile, Path torchProfile,
                          int attentionPairs) {
    }

    /** Runs {@code c} on the model in {@code modelDir} and prints the result line; returns the exit code. */
    public static int run(BenchCase c, Path modelDir, Options o) {
        ObjectNode r = JSON.createObjectNode();
        r.put("case", c.name());
        r.put("attention", AttentionKernel.effective().label());              // the kernel that ran (SDPA may fall back)
        try (NDManager manager = TorchRuntime.newBaseManager()) {
            r.put("mkl", TorchRuntime.mkl());                                   // MKL's kernels as chosen (--mkl)
            long t0 = System.nanoTime();
            BenchCase.Workload w = c.open(DiffusersFolder.open(modelDir), manager);
            r.put("load_s", seconds(t0));
            r.put("rss_after_load_mb", ProcStatus.rssMb());
            r.put("peak_rss_after_load_mb", ProcStatus.peakRssMb());
            progress(c, "loaded in %.1f s (RSS %.0f MB); warm-up …", seconds(t0), ProcStatus.rssMb());
            if (w instanceof BenchCase.SelfTimedWorkload st) {
                try (st) {
                    r.setAll(st.measure(line -> progress(c, "%s", line)));
                }
                r.put("params", w.params());
                r.put("threads", JniUtils.getNumThreads());
                r.put("libtorch", manager.getEngine().getVersion());
                r.put("huge_pages", TorchRuntime.hugePages());                 // THP_MEM_ALLOC_ENABLE as libtorch saw it
                r.put("omp_wait_policy", TorchRuntime.openMpWaitPolicy());
                if (o.hookPairs() > 0 || o.memoryChecks() > 0 || o.profile() || o.torchProfile() != null
                        || o.attentionPairs() > 0) {
                    progress(c, "%s", "--hook-overhead, --memory-check, --attention-pairs and the profiles apply to"
                            + " single-forward cases only");
                }
                r.put("peak_rss_mb", ProcStatus.peakRssMb());
                System.out.println(RESULT_PREFIX + r);
                System.out.flush();
                return 0;
            }

            long[][] shape = new long[1][];
            r.put("warmup_s", timeOnce(w, shape));
            double checkSeconds = KernelChecks.checkSeconds();
            List<Double> runs = new ArrayList<>();
            for (int i = 0; i < o.runs(); i++) {
                runs.add(timeOnce(w, shape));
                progress(c, "run %d/%d: %.2f s", i + 1, o.runs(), runs.getLast());
            }
            r.put("median_s", median(runs));
            double checksPerRun = (KernelChecks.checkSeconds() - checkSeconds) / Math.max(1, o.runs());
            r.put("kernel_check_s_per_run", checksPerRun);                     // the spot checks of a timed run
            r.put("kernel_check_share", checksPerRun / median(runs));
            r.set("compute", computeSummary());
            ArrayNode rs = r.putArray("runs_s");
            runs.forEach(rs::add);
            ArrayNode os = r.putArray("out_shape");
            Arrays.stream(shape[0]).forEach(os::add);
            r.put("params", w.params());
            if (!Double.isNaN(w.gflop())) {
                r.put("gflop", w.gflop());
            }
            r.put("threads", JniUtils.getNumThreads());
            r.put("interop_threads", JniUtils.getNumInteropThreads());
            r.put("torch_features", String.join(",", new java.util.TreeSet<>(JniUtils.getFeatures())));
            r.put("libtorch", manager.getEngine().getVersion());
            r.put("huge_pages", TorchRuntime.hugePages());
            r.put("omp_wait_policy", TorchRuntime.openMpWaitPolicy());
            r.put("peak_rss_mb", ProcStatus.peakRssMb());                      // before the extras below
            if (o.hookPairs() > 0) {
                r.set("hook_overhead", hookOverhead(c, w, o.hookPairs()));
            }
            if (o.attentionPairs() > 0) {
                r.set("attention_pairs", attentionPairs(c, w, o.attentionPairs()));
            }
            if (o.memoryChecks() > 0) {
                r.set("memory_check", memoryCheck(c, w, manager, o.memoryChecks()));
            }
            if (o.profile()) {
                r.set("profile", profile(c, w));
            }
            if (o.torchProfile() != null) {
                JniUtils.startProfile(false, true, true);
                timeOnce(w, shape);
                JniUtils.stopProfile(o.torchProfile().toString());
                r.put("torch_profile", o.torchProfile().toString());
            }
        }
        System.out.println(RESULT_PREFIX + r);
        System.out.flush();
        return 0;
    }

    /** What the numbers were computed on, without the per-shape list (that is in run manifests). */
    private static ObjectNode computeSummary() {
        ObjectNode c = ComputeRecord.json();
        ((ObjectNode) c.get("kernel_checks")).remove("shapes");
        return c;
    }

    /** One evaluation in its own scope: seconds; its output's shape goes to {@code shape[0]}. */
    private static double timeOnce(BenchCase.Workload w, long[][] shape) {
        try (ForwardScope scope = new ForwardScope()) {
            long t = System.nanoTime();
            NDArray out = w.run();
            double s = seconds(t);
            shape[0] = out.getShape().getShape();
            return s;
        }
    }

    /**
     * The cost of hook points nobody listens to: evaluations with the hook table detached (emit skips it) and
     * attached without listeners, alternating so that drifting machine load hits both alike.
     */
    private static ObjectNode hookOverhead(BenchCase c, BenchCase.Workload w, int pairs) {
        long[][] shape = new long[1][];
        List<Double> detached = new ArrayList<>();
        List<Double> attached = new ArrayList<>();
        for (int i = 0; i < pairs; i++) {
            boolean detachedFirst = i % 2 == 0;
            for (int k = 0; k < 2; k++) {
                if (detachedFirst == (k == 0)) {
                    try (HookTable.Detached d = w.hooks().detach()) {
                        detached.add(timeOnce(w, shape));
                    }
                } else {
                    attached.add(timeOnce(w, shape));
                }
            }
            progress(c, "hook overhead pair %d/%d: detached %.2f s, attached %.2f s", i + 1, pairs,
                    detached.getLast(), attached.getLast());
        }
        ObjectNode h = JSON.createObjectNode();
        h.put("points", w.hooks().points().size());
        h.put("detached_median_s", median(detached));
        h.put("attached_median_s", median(attached));
        h.put("overhead", median(attached) / median(detached) - 1);
        ArrayNode d = h.putArray("detached_s");
        detached.forEach(d::add);
        ArrayNode a = h.putArray("attached_s");
        attached.forEach(a::add);
        return h;
    }

    /**
     * The two attention kernels on the same loaded model: evaluations with {@link AttentionKernel#EXPLICIT} and
     * {@link AttentionKernel#SDPA} in alternating order, so that a machine whose load drifts (other work on the cores)
     * hits both alike; a ratio from one JVM, where separate fresh-JVM runs minutes apart can differ by 2×.
     */
    private static ObjectNode attentionPairs(BenchCase c, BenchCase.Workload w, int pairs) {
        long[][] shape = new long[1][];
        AttentionKernel before = AttentionKernel.selected();
        List<Double> explicit = new ArrayList<>();
        List<Double> sdpa = new ArrayList<>();
        try {
            AttentionKernel.select(AttentionKernel.SDPA);
            timeOnce(w, shape);                                                // SDPA's warm-up (the case warmed up the other)
            for (int i = 0; i < pairs; i++) {
                for (AttentionKernel k : i % 2 == 0 ? List.of(AttentionKernel.EXPLICIT, AttentionKernel.SDPA)
                        : List.of(AttentionKernel.SDPA, AttentionKernel.EXPLICIT)) {
                    AttentionKernel.select(k);
                    (k == AttentionKernel.SDPA ? sdpa : explicit).add(timeOnce(w, shape));
                }
                progress(c, "attention pair %d/%d: explicit %.2f s, sdpa %.2f s", i + 1, pairs, explicit.getLast(),
                        sdpa.getLast());
            }
        } finally {
            AttentionKernel.select(before);
        }
        ObjectNode a = JSON.createObjectNode();
        a.put("explicit_median_s", median(explicit));
        a.put("sdpa_median_s", median(sdpa));
        a.put("sdpa_time_ratio", median(sdpa) / median(explicit));
        ArrayNode e = a.putArray("explicit_s");
        explicit.forEach(e::add);
        ArrayNode f = a.putArray("sdpa_s");
        sdpa.forEach(f::add);
        return a;
    }

    /** RSS and the manager's live NDArrays after each of {@code n} further evaluations: both should stay flat. */
    private static ObjectNode memoryCheck(BenchCase c, BenchCase.Workload w, NDManager manager, int n) {
        long[][] shape = new long[1][];
        ObjectNode m = JSON.createObjectNode();
        ArrayNode rss = m.putArray("rss_mb");
        ArrayNode arrays = m.putArray("live_ndarrays");
        for (int i = 0; i < n; i++) {
            timeOnce(w, shape);
            rss.add(ProcStatus.rssMb());
            arrays.add(manager.getManagedArrays().size());
            progress(c, "memory check %d/%d: RSS %.0f MB, %d live NDArrays", i + 1, n, ProcStatus.rssMb(),
                    manager.getManagedArrays().size());
        }
        m.put("forwards", n);
        m.put("rss_growth_mb", rss.get(n - 1).asDouble() - rss.get(0).asDouble());
        m.put("ndarray_growth", arrays.get(n - 1).asInt() - arrays.get(0).asInt());
        return m;
    }

    private static ObjectNode profile(BenchCase c, BenchCase.Workload w) {
        long[][] shape = new long[1][];
        ObjectNode p = JSON.createObjectNode();
        try (BlockProfile prof = new BlockProfile(w.hooks())) {
            boolean reset = ProcStatus.resetPeakRss();                          // so that this forward's rises show
            double peakBefore = ProcStatus.peakRssMb();
            prof.start();
            double wall = timeOnce(w, shape);
            p.put("wall_s", wall);
            p.put("attributed_s", prof.total());
            System.err.printf(Locale.ROOT, "%s: profile (%.2f s; each row: time up to its hook point)%n", c.name(), wall);
            ArrayNode kinds = p.putArray("by_kind");
            for (BlockProfile.Row row : prof.rows()) {
                ObjectNode k = kinds.addObject();
                k.put("kind", row.kind());
                k.put("class", row.className());
                k.put("s", row.seconds());
                k.put("share", row.seconds() / wall);
                k.put("count", row.count());
                if (row.seconds() / wall >= 0.002) {
                    System.err.printf(Locale.ROOT, "  %6.2f s %5.1f%% %4d×  %-18s %s%n", row.seconds(),
                            100 * row.seconds() / wall, row.count(), row.className(), row.kind());
                }
            }
            p.put("peak_rss_reset", reset);
            p.put("peak_rss_before_mb", peakBefore);
            p.put("peak_rss_after_mb", ProcStatus.peakRssMb());
            ArrayNode risers = p.putArray("peak_rss_rises");                  // where the high-water mark was raised
            System.err.printf(Locale.ROOT, "%s: peak RSS %.0f → %.0f MiB over the profiled forward, raised at%n",
                    c.name(), peakBefore, ProcStatus.peakRssMb());
            for (BlockProfile.Row row : prof.peakRisers()) {
                ObjectNode k = risers.addObject();
                k.put("kind", row.kind());
                k.put("class", row.className());
                k.put("mb", row.peakRssRiseMb());
                System.err.printf(Locale.ROOT, "  %7.1f MiB  %-18s %s%n", row.peakRssRiseMb(), row.className(), row.kind());
            }
            ObjectNode classes = p.putObject("by_class_s");
            System.err.printf(Locale.ROOT, "%s: profile by class%n", c.name());
            for (var e : prof.byClass()) {
                classes.put(e.getKey(), e.getValue());
                System.err.printf(Locale.ROOT, "  %6.2f s %5.1f%%  %s%n", e.getValue(), 100 * e.getValue() / wall, e.getKey());
            }
        }
        return p;
    }

    static double median(List<Double> xs) {
        List<Double> s = xs.stream().sorted().toList();
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void progress(BenchCase c, String format, Object... args) {
        System.err.println("bench: " + c.name() + ": " + String.format(Locale.ROOT, format, args));
    }
}
