package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The libtorch process settings unetlens relies on, applied before libtorch allocates its first tensor. Every
 * base manager the library opens comes from {@link #newBaseManager()}.
 *
 * <p>Transparent huge pages: with {@code THP_MEM_ALLOC_ENABLE=1} libtorch's CPU allocator aligns every block of
 * 2 MiB or more to 2 MiB and asks the kernel to back it with huge pages. SD's activations are 5–256 MB each and
 * are allocated and freed hundreds of times per forward; on 4 KiB pages each fresh block costs one page fault per
 * 4 KiB (a third of the VAE decode's time was system time), on huge pages one per 2 MiB. Measured with
 * {@code unetlens bench} on the 2-core development machine: VAE decode 28.1 → 21.5 s, same peak RSS. libtorch reads
 * the variable once, at its first allocation, from the C environment — which Java cannot change — so it is set
 * here through libc's {@code setenv}, unless the user set it (to 0, say) or the kernel has THP turned off.
 */
public final class TorchRuntime {
    /** libtorch's switch (c10/core/impl/alloc_cpu.cpp). */
    public static final String THP_VARIABLE = "THP_MEM_ALLOC_ENABLE";
    private static final Path THP_MODE = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
    private static final String HUGE_PAGES = configure();
    private static final String OPENMP_WAIT = OpenMp.configure();

    private TorchRuntime() {
    }

    static {
        dev.unetlens.io.OutputDirectory.recordInEveryManifest("compute", dev.unetlens.model.check.ComputeRecord::json);
    }

    /** A new base manager, after the process settings are in place (and, once libtorch is loaded, NNPACK off and MKL's kernels as asked). */
    public static NDManager newBaseManager() {
        NDManager m = NDManager.newBaseManager();
        nnpack();
        mkl();
        return m;
    }

    private static String mkl;
    /** The system property that asks for MKL's kernels ({@link MklDispatch}); before the environment's UNETLENS_MKL. */
    public static final String MKL_PROPERTY = MklDispatch.PROPERTY;

    /** {@code default} or {@code avx512} for {@code text} (any case), as --mkl takes it; one line naming the choices otherwise. */
    public static String mklChoice(String text) {
        return MklDispatch.Request.parse(text, "--mkl").name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * {@link MklDispatch}: MKL's kernels as asked ({@code UNETLENS_MKL}, default or avx512), once, after libtorch is
     * loaded and before its first product; what was done, for run records.
     */
    public static synchronized String mkl() {
        if (mkl == null) {
            mkl = MklDispatch.configure(MklDispatch.request());
        }
        return mkl;
    }

    private static String nnpack;

    /** {@link Nnpack#disable()}, once, after libtorch is loaded; what was done, for run records. */
    public static synchronized String nnpack() {
        if (nnpack == null) {
            nnpack = Nnpack.disable();
        }
        return nnpack;
    }

    /**
     * What was decided about huge pages, for run records: "1" or "0" as libtorch sees {@value #THP_VARIABLE},
     * with where it came from.
     */
    public static String hugePages() {
        return HUGE_PAGES;
    }

    /** libgomp's wait policy as set for libtorch's threads ({@link OpenMp}), for run records. */
    public static String openMpWaitPolicy() {
        return OPENMP_WAIT;
    }

    private static String configure() {
        String user = System.getenv(THP_VARIABLE);
        if (user != null) {
            return user + " (set by the user)";
        }
        String mode = kernelMode();
        if (!mode.equals("always") && !mode.equals("madvise")) {
            return "0 (kernel transparent huge pages: " + mode + ")";
        }
        try {
            setenv(THP_VARIABLE, "1");
            return "1";
        } catch (Throwable e) {                                // no libc setenv, native access denied: run without
            return "0 (could not set " + THP_VARIABLE + ": " + e + ")";
        }
    }

    /** The kernel's THP mode: the bracketed word of /sys/kernel/mm/transparent_hugepage/enabled, or "absent". */
    static String kernelMode() {
        try {
            return selected(Files.readString(THP_MODE));
        } catch (java.io.IOException | SecurityException e) {
            return "absent";
        }
    }

    /** The bracketed choice of a sysfs list such as {@code always [madvise] never}. */
    static String selected(String sysfsList) {
        int open = sysfsList.indexOf('[');
        int close = sysfsList.indexOf(']', open + 1);
        return open >= 0 && close > open ? sysfsList.substring(open + 1, close) : "unknown";
    }

    /**
     * glibc's largest mmap threshold on 64-bit ({@code DEFAULT_MMAP_THRESHOLD_MAX}): a block above it is always
     * mapped fresh from the kernel and unmapped when freed, never carved out of the heap.
     */
    public static final long HEAP_BLOCK_LIMIT = 32L << 20;
    private static final MethodHandle MALLOC_TRIM = mallocTrim();

    /**
     * {@code x}, after {@link #trimHeap()} when {@code x} is a float32 map over {@link #HEAP_BLOCK_LIMIT}: for a stage
     * whose maps are all that large. glibc keeps the pages of freed heap blocks (the earlier, smaller stages'
     * maps) and only reuses them for blocks under the limit, so they would sit under this stage's peak. Measured
     * on the VAE decode before its 256² and 512² blocks: peak RSS 1.57–1.61 → 1.44–1.48 GB, time unchanged; before
     * every block, or as fixed malloc thresholds for the whole process, it costs 2–13 % time (pages fault in again).
     */
    public static NDArray trimHeapBefore(NDArray x) {
        if (overHeapBlockLimit(x.size())) {
            trimHeap();
        }
        return x;
    }

    static boolean overHeapBlockLimit(long floats) {
        return floats * Float.BYTES > HEAP_BLOCK_LIMIT;
    }

    /**
     * Hands the free pages of the C heap back to the kernel (glibc's {@code malloc_trim(0)}); a no-op where libc has
     * no such call. Returns whether it released anything.
     */
    public static boolean trimHeap() {
        if (MALLOC_TRIM == null) {
            return false;
        }
        try {
            return (int) MALLOC_TRIM.invokeExact(0L) != 0;
        } catch (Throwable e) {
            return false;
        }
    }

    private static MethodHandle mallocTrim() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("malloc_trim").map(f -> linker.downcallHandle(f,
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG))).orElse(null);
        } catch (RuntimeException e) {                          // native access denied
            return null;
        }
    }

    /** The C environment's value of a variable (what libtorch's getenv sees), or null. */
    static String nativeGetenv(String name) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle getenv = linker.downcallHandle(linker.defaultLookup().find("getenv").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            java.lang.foreign.MemorySegment p = (java.lang.foreign.MemorySegment) getenv.invokeExact(
                    arena.allocateFrom(name));
            return p.equals(java.lang.foreign.MemorySegment.NULL) ? null : p.reinterpret(4096).getString(0);
        }
    }

    static void setenv(String name, String value) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle setenv = linker.downcallHandle(linker.defaultLookup().find("setenv").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) setenv.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 0);
            if (rc != 0) {
                throw new IllegalStateException("setenv returned " + rc);
            }
        }
    }
}
