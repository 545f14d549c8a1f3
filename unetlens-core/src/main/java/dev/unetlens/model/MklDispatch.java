package dev.unetlens.model;

import dev.unetlens.UnetlensException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Set;

/**
 * Opt-in: lets oneMKL take its AVX-512 kernels on an AMD CPU ({@code UNETLENS_MKL=avx512}, or the system property
 * {@code unetlens.mkl}); the default leaves MKL's choice alone.
 *
 * <p>libtorch 2.7.1 does its float32 matrix products (linear layers, attention's batched products) in oneMKL 2024.0,
 * linked into {@code libtorch_cpu.so}. MKL picks its kernels by CPU vendor before ISA: on an AMD CPU it takes its
 * AVX2 code even where the CPU has AVX-512 (Zen 4 and 5). Measured on a 2-vCPU AMD EPYC (Zen 5), SD's GEMM shapes,
 * 2 threads: 88–133 GFLOP/s as chosen, 99–205 GFLOP/s with the AVX-512 kernels; the U-Net at 64×64 b1 0.82× the
 * time ({@code bench-reference/runs/2026-12-03-zen5-mkl}).
 *
 * <p>How: MKL asks {@code mkl_serv_intel_cpu_true()} (exported) whether the CPU is Intel's and caches the answer in a
 * static int that starts negative ("not asked yet"). The function's first instruction reads that int
 * ({@code mov eax, [rip + disp32]}), so its address is the function's plus 6 plus disp32. Before MKL's first call
 * this class sets it to 1 — one data word, in a writable mapping, after checking the instruction bytes; no code is
 * changed, and where anything differs (another MKL build, MKL already asked, no AVX-512, an Intel CPU that needs
 * none of this) nothing is written and the record says why.
 *
 * <p>Why opt-in: the AVX-512 kernels sum in another order. On the golden fixtures the U-Net, text encoders and VAE
 * then differ from diffusers by up to 3.1e-6 of an array's largest value (MklKernelsGoldenTest), within the CPU-to-CPU
 * variation the fixtures' README documents (7e-6), but single elements of three arrays fall outside the per-element
 * tolerances (U-Net hooks: an element of 0.08 in a map up to 16.8, 2.4e-5 off against 1e-5 + 1e-4·|x|, and one of
 * 0.016; a VAE decoder hook: one of 0.0018, 1.9e-5 off) — small values in maps of large ones, where sums cancel (the
 * maps reach 13–17). The default computes what diffusers on libtorch computes on the same CPU. The run-time kernel
 * checks ({@link dev.unetlens.model.check.KernelChecks}) test the AVX-512 products against float64 as they test any.
 */
final class MklDispatch {
    static final String VARIABLE = "UNETLENS_MKL";
    static final String PROPERTY = "unetlens.mkl";
    private static final String LIBRARY = "libtorch_cpu.so";
    private static final String VENDOR_TEST = "mkl_serv_intel_cpu_true";
    /** What MKL's AVX-512 kernels (its "avx512" code path, as on Skylake-SP) need of the CPU. */
    static final Set<String> AVX512 = Set.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl");

    private MklDispatch() {
    }

    /** What was asked for: {@code default} or {@code avx512}. */
    enum Request {
        DEFAULT, AVX512;

        static Request parse(String text, String source) {
            for (Request r : values()) {
                if (r.name().equalsIgnoreCase(text.strip())) {
                    return r;
                }
            }
            throw new UnetlensException(source + " must be 'default' or 'avx512', got '" + text + "'");
        }
    }

    /** The request from the system property, else the environment; DEFAULT when neither is set. */
    static Request request() {
        String p = System.getProperty(PROPERTY);
        if (p != null) {
            return Request.parse(p, "-D" + PROPERTY);
        }
        String e = System.getenv(VARIABLE);
        return e == null || e.isBlank() ? Request.DEFAULT : Request.parse(e, VARIABLE);
    }

    /** Applies the request once libtorch is loaded and before its first product; what was done, for run records. */
    static String configure(Request request) {
        if (request == Request.DEFAULT) {
            return "default";
        }
        try {
            CpuInfo cpu = CpuInfo.read();
            if (cpu.vendor().equals("GenuineIntel")) {
                return "default (asked for avx512: an Intel CPU, where MKL takes its AVX-512 kernels itself)";
            }
            if (!cpu.flags().containsAll(AVX512)) {
                return "default (asked for avx512: this CPU lacks " + missing(cpu.flags()) + ")";
            }
            Path lib = NativeLibraries.loaded(LIBRARY);
            if (lib == null) {
                return "default (asked for avx512: " + LIBRARY + " is not loaded)";
            }
            MemorySegment f = SymbolLookup.libraryLookup(lib, Arena.global()).find(VENDOR_TEST).orElse(null);
            if (f == null) {
                return "default (asked for avx512: " + LIBRARY + " has no " + VENDOR_TEST + ")";
            }
            byte[] code = f.reinterpret(PROLOGUE_LENGTH).toArray(ValueLayout.JAVA_BYTE);
            long cache = cacheAddress(code, f.address());
            if (cache < 0) {
                return "default (asked for avx512: " + VENDOR_TEST + " is not the code this class knows, another MKL build)";
            }
            if (!NativeLibraries.writable(cache, Integer.BYTES)) {
                return "default (asked for avx512: the vendor test's cache is not in a writable mapping)";
            }
            MemorySegment cached = MemorySegment.ofAddress(cache).reinterpret(Integer.BYTES);
            int before = cached.get(ValueLayout.JAVA_INT, 0);
            if (before >= 0) {
                return before == 1 ? "avx512" : "default (asked for avx512 after MKL had chosen its kernels)";
            }
            cached.set(ValueLayout.JAVA_INT, 0, 1);
            return "avx512";
        } catch (IOException | RuntimeException e) {              // no procfs, native access denied: leave MKL alone
            return "default (asked for avx512: " + e + ")";
        }
    }

    /** Bytes of the vendor test that {@link #cacheAddress} reads. */
    static final int PROLOGUE_LENGTH = 11;

    /**
     * Where the vendor test caches its answer, from its first bytes: {@code 8b 05 d32} (mov eax, [rip + d32]),
     * {@code 85 c0} (test eax, eax), {@code 78 01} (js over the ret), {@code c3} (ret) — the cache is at the
     * function's address + 6 + d32. -1 if the bytes are anything else.
     */
    static long cacheAddress(byte[] code, long function) {
        if (code.length < PROLOGUE_LENGTH || (code[0] & 0xff) != 0x8b || (code[1] & 0xff) != 0x05
                || (code[6] & 0xff) != 0x85 || (code[7] & 0xff) != 0xc0 || (code[8] & 0xff) != 0x78
                || (code[9] & 0xff) != 0x01 || (code[10] & 0xff) != 0xc3) {
            return -1;
        }
        int disp = (code[2] & 0xff) | (code[3] & 0xff) << 8 | (code[4] & 0xff) << 16 | code[5] << 24;
        return function + 6 + disp;
    }

    private static String missing(Set<String> flags) {
        return AVX512.stream().filter(f -> !flags.contains(f)).sorted().reduce((a, b) -> a + ", " + b).orElse("");
    }
}
