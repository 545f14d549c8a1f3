package dev.unetlens.model.check;

import ai.djl.ndarray.NDArray;
import dev.unetlens.UnetlensException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Trust no kernel: every native operation's output is checked against float64 sums at sampled positions
 * ({@link Comparison}) before it is used. The first call with a new shape gets a thorough check (about a hundred
 * positions, sixteen output channels, edges and block boundaries first); if the output is wrong, the next way of
 * computing the same thing is tried and checked, and the first that is right is used for that shape from then on.
 * Every later call gets a spot check (a few random outputs): kernels that read memory they never wrote — libtorch
 * 2.7.1's oneDNN on AVX-512 does, for 3×3 convolutions whose input channels are over 20 and not a multiple of 16 —
 * can be right on one call and wrong on the next, so a first good answer proves nothing. A way that fails a check is
 * never used for that shape again. If no way is right, the run stops with an error that names the shape.
 *
 * <p>Verdicts are per process, per shape key, shared by all modules. The system property {@value #MODE_PROPERTY}
 * set to {@code always} checks every call thoroughly (slow; for suspicion). {@link #verdicts} and {@link #events}
 * are what run manifests record.
 */
public final class KernelChecks {
    public static final String MODE_PROPERTY = "unetlens.kernel.check";
    private static final int EVENT_LIMIT = 100;
    private static final Map<Object, Verdict> VERDICTS = new ConcurrentHashMap<>();
    private static final Map<Object, Set<String>> CONDEMNED = new ConcurrentHashMap<>();
    private static final List<String> EVENTS = java.util.Collections.synchronizedList(new ArrayList<>());
    private static final AtomicLong UNCHECKED = new AtomicLong();
    private static final AtomicLong SPOT_CHECKS = new AtomicLong();
    private static final AtomicLong THOROUGH_CHECKS = new AtomicLong();
    private static final AtomicLong CHECK_NANOS = new AtomicLong();
    private static final AtomicLong CALLS = new AtomicLong();
    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();

    /** A way of computing an operation that was tried for a shape and found wrong. */
    public record Rejected(String path, String implementation, String comparison) {
    }

    /**
     * What was decided for one shape.
     *
     * @param op             "conv2d", "linear"
     * @param shape          the shape key, readable
     * @param path           the way that is used
     * @param implementation oneDNN's implementation for that way where it says ("jit:avx512_core"), else ""
     * @param comparison     the accepted way's thorough check
     * @param rejected       ways found wrong first, in the order tried
     */
    public record Verdict(String op, String shape, String path, String implementation, Comparison comparison,
                          List<Rejected> rejected) {
    }

    /** How each way is run and checked for one operation. */
    public interface Way<P> {
        NDArray compute(P path);

        /**
         * The output of {@code path} against float64 sums: thoroughly, or at a few outputs drawn from {@code random}
         * (the path says which {@link Arithmetic} the kernel was asked for).
         */
        Comparison check(P path, NDArray y, boolean thorough, SplittableRandom random);
    }

    private KernelChecks() {
    }

    /**
     * The operation's output for {@code key}, checked: through the way already found right for this key (spot
     * check), else through the first of {@code paths} not condemned for it whose output passes a thorough check.
     * {@code usesOneDnn} says which ways run oneDNN (their implementation names are recorded).
     */
    public static <P> NDArray run(String op, Object key, List<P> paths, Predicate<P> usesOneDnn, Way<P> way) {
        long call = CALLS.incrementAndGet();
        boolean always = "always".equals(System.getProperty(MODE_PROPERTY));
        Verdict known = VERDICTS.get(key);
        if (known != null) {
            P path = pathNamed(paths, known.path());
            NDArray y = way.compute(path);
            Comparison c = timed(() -> way.check(path, y, always, new SplittableRandom(call)), always);
            if (c.passed() || c.inconclusive()) {
                return y;
            }
            y.close();                                                         // right before, wrong now
            condemn(key, known.path());
            VERDICTS.remove(key, known);
            event(op + " " + key + ": " + known.path() + " passed its first check but failed on a later call ("
                    + c.describe() + "); switched");
        }
        List<Rejected> rejected = new ArrayList<>();
        Set<String> condemned = CONDEMNED.getOrDefault(key, Set.of());
        for (P path : paths) {
            if (condemned.contains(path.toString())) {
                continue;
            }
            OneDnn.Captured<NDArray> run = usesOneDnn.test(path)
                    ? OneDnn.capture(() -> way.compute(path)) : new OneDnn.Captured<>(way.compute(path), List.of());
            NDArray y = run.value();
            Comparison c = timed(() -> way.check(path, y, true, new SplittableRandom(key.hashCode())), true);
            String implementation = String.join(" ", OneDnn.convolutionImplementations(run.lines()));
            if (c.inconclusive()) {                                            // non-finite input: check next time
                UNCHECKED.incrementAndGet();
                return y;
            }
            if (c.passed()) {
                VERDICTS.put(key, new Verdict(op, key.toString(), path.toString(), implementation, c, List.copyOf(rejected)));
                return y;
            }
            rejected.add(new Rejected(path.toString(), implementation, c.describe()));
            condemn(key, path.toString());
            y.close();
        }
        throw new KernelException(op + " " + key + ": no way of computing it on this CPU gives correct numbers ("
                + String.join("; ", rejected.stream().map(r -> r.path() + ": " + r.comparison()).toList())
                + "); please report this with the output of 'unetlens --version'");
    }

    /** Runs a check, adding the CPU time it takes (not wall time: a busy machine must not inflate it). */
    private static Comparison timed(java.util.function.Supplier<Comparison> check, boolean thorough) {
        long t0 = CPU.getCurrentThreadCpuTime();
        Comparison c = check.get();
        CHECK_NANOS.addAndGet(CPU.getCurrentThreadCpuTime() - t0);
        (thorough ? THOROUGH_CHECKS : SPOT_CHECKS).incrementAndGet();
        return c;
    }

    private static void condemn(Object key, String path) {
        CONDEMNED.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(path);
    }

    private static void event(String what) {
        if (EVENTS.size() < EVENT_LIMIT) {
            EVENTS.add(what);
        }
    }

    private static <P> P pathNamed(List<P> paths, String name) {
        return paths.stream().filter(p -> p.toString().equals(name)).findFirst().orElseThrow();
    }

    /** Every verdict so far, sorted by operation and shape. */
    public static List<Verdict> verdicts() {
        return VERDICTS.values().stream()
                .sorted(Comparator.comparing(Verdict::op).thenComparing(Verdict::shape)).toList();
    }

    /** The verdict for one shape key, if it has been checked. */
    public static java.util.Optional<Verdict> verdict(Object key) {
        return java.util.Optional.ofNullable(VERDICTS.get(key));
    }

    /** Calls that could not be checked (every sampled exact value non-finite). */
    public static long unchecked() {
        return UNCHECKED.get();
    }

    /** Calls checked so far: all, thoroughly (first uses and switches), and spot checks. */
    public static long calls() {
        return CALLS.get();
    }

    public static long thoroughChecks() {
        return THOROUGH_CHECKS.get();
    }

    public static long spotChecks() {
        return SPOT_CHECKS.get();
    }

    /** Ways that passed their first check and failed a later one (at most {@value #EVENT_LIMIT}). */
    public static List<String> events() {
        synchronized (EVENTS) {
            return List.copyOf(EVENTS);
        }
    }

    /** The CPU seconds spent in checks (gathering samples and the float64 sums, not the kernels). */
    public static double checkSeconds() {
        return CHECK_NANOS.get() / 1e9;
    }

    /** The check mode in force: "first-use thorough, then spot" or "always thorough". */
    public static String mode() {
        return "always".equals(System.getProperty(MODE_PROPERTY)) ? "always thorough"
                : "thorough on first use of a shape, then spot checks on every call";
    }

    /** Forgets every verdict (tests). */
    static void reset() {
        VERDICTS.clear();
        CONDEMNED.clear();
        EVENTS.clear();
    }

    /** No way of computing an operation gave correct numbers. */
    public static final class KernelException extends UnetlensException {
        KernelException(String message) {
            super(message);
        }
    }
}
