package dev.unetlens.model.check;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * What oneDNN, libtorch's convolution library, says on this CPU: its ISA (the instruction set its kernels were
 * generated for, e.g. "Intel AVX-512 with Intel DL Boost and bfloat16 support"), its version, and which
 * implementation ran a given convolution ("jit:avx512_core", "brg_conv_fwd:avx512_core", "gemm:jit").
 *
 * <p>oneDNN says these only in its verbose mode, as lines on the process's standard output. {@link #capture} turns
 * verbose mode on for one call with file descriptor 1 pointed at an anonymous in-memory file (libc's
 * {@code memfd_create}, {@code dup2}), then restores it, keeps the {@code onednn_verbose} lines and writes anything
 * else that was printed in that window back to standard output. Calls are serialised; if the user set
 * {@code ONEDNN_VERBOSE} (they want the lines themselves) or libc or libtorch lack a call, nothing is captured.
 */
public final class OneDnn {
    private static final String PREFIX = "onednn_verbose";
    private static final Object LOCK = new Object();
    private static final Stdio STDIO = Stdio.bind();
    private static volatile String isa;
    private static volatile String headerVersion;
    private static volatile boolean probed;

    /** A body's value and the oneDNN verbose lines printed while it ran. */
    public record Captured<T>(T value, List<String> lines) {
    }

    private OneDnn() {
    }

    /** oneDNN's ISA on this CPU as it reports it, or "unknown". Runs a tiny convolution once to make it say. */
    public static String isa() {
        if (isa == null && !probed) {
            probed = true;
            capture(OneDnn::probe);
        }
        return isa == null ? "unknown" : isa;
    }

    /** oneDNN's version: from its verbose header, else from libtorch, else "unknown". */
    public static String version() {
        isa();
        if (headerVersion != null) {
            return headerVersion;
        }
        return Libtorch.oneDnnVersion().orElse("unknown");
    }

    /** The CPU kernels ATen (libtorch's own operators) dispatches to, or "unknown". */
    public static String atenCapability() {
        return Libtorch.cpuCapability().orElse("unknown");
    }

    /** Runs {@code body} with oneDNN's verbose lines captured (none where capturing is not possible). */
    public static <T> Captured<T> capture(Supplier<T> body) {
        if (STDIO == null || System.getenv("ONEDNN_VERBOSE") != null) {
            return new Captured<>(body.get(), List.of());
        }
        synchronized (LOCK) {
            String text;
            T value;
            int memfd;
            try {
                memfd = STDIO.redirect();
            } catch (Throwable e) {
                return new Captured<>(body.get(), List.of());
            }
            try {
                Libtorch.setOneDnnVerbose(1);
                value = body.get();
            } finally {
                Libtorch.setOneDnnVerbose(0);
                text = STDIO.restore(memfd);
            }
            return new Captured<>(value, keep(text));
        }
    }

    /** The implementations of the convolutions executed in {@code lines} ("jit:avx512_core"), in order, distinct. */
    public static List<String> convolutionImplementations(List<String> lines) {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.split(",", -1);                               // onednn_verbose,v1,primitive,exec,cpu,
            if (f.length > 6 && f[2].equals("primitive") && f[3].equals("exec") && f[5].equals("convolution")
                    && !out.contains(f[6])) {
                out.add(f[6]);
            }
        }
        return out;
    }

    /** Splits captured text into oneDNN's lines (remembering its header) and the rest, which goes back to stdout. */
    private static List<String> keep(String text) {
        List<String> lines = new ArrayList<>();
        StringBuilder others = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            if (line.startsWith(PREFIX)) {
                lines.add(line);
                header(line);
            } else if (!line.isEmpty()) {
                others.append(line).append('\n');
            }
        }
        if (!others.isEmpty()) {
            System.out.print(others);
            System.out.flush();
        }
        return lines;
    }

    private static void header(String line) {
        int at = line.indexOf(",info,cpu,isa:");
        if (at >= 0) {
            isa = line.substring(at + ",info,cpu,isa:".length()).strip();
        }
        at = line.indexOf(",info,oneDNN ");
        if (at >= 0) {
            headerVersion = line.substring(at + ",info,".length()).strip();
        }
    }

    private static Void probe() {
        try (NDManager m = dev.unetlens.model.TorchRuntime.newBaseManager()) {
            NDArray x = m.ones(new Shape(1, 16, 4, 4));
            x.getNDArrayInternal().convolution(x, m.ones(new Shape(16, 16, 3, 3)), null, new Shape(1, 1),
                    new Shape(1, 1), new Shape(1, 1), 1);
        }
        return null;
    }

    /** libc's descriptor calls for pointing standard output elsewhere for a while. */
    private record Stdio(MethodHandle fflush, MethodHandle dup, MethodHandle dup2, MethodHandle close,
                         MethodHandle memfdCreate, int[] saved) {
        static Stdio bind() {
            try {
                Linker l = Linker.nativeLinker();
                var libc = l.defaultLookup();
                FunctionDescriptor intInt = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
                return new Stdio(
                        l.downcallHandle(libc.find("fflush").orElseThrow(),
                                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS)),
                        l.downcallHandle(libc.find("dup").orElseThrow(), intInt),
                        l.downcallHandle(libc.find("dup2").orElseThrow(),
                                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)),
                        l.downcallHandle(libc.find("close").orElseThrow(), intInt),
                        l.downcallHandle(libc.find("memfd_create").orElseThrow(),
                                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT)),
                        new int[1]);
            } catch (RuntimeException e) {                                     // no such call, native access denied
                return null;
            }
        }

        /** Points fd 1 at a new in-memory file; returns that file's descriptor. */
        int redirect() throws Throwable {
            System.out.flush();
            int rc = (int) fflush.invokeExact(MemorySegment.NULL);
            int memfd;
            try (Arena arena = Arena.ofConfined()) {
                memfd = (int) memfdCreate.invokeExact(arena.allocateFrom("unetlens-onednn"), 0);
            }
            if (memfd < 0) {
                throw new IOException("memfd_create failed");
            }
            saved[0] = (int) dup.invokeExact(1);
            if (saved[0] < 0 || (int) dup2.invokeExact(memfd, 1) < 0) {
                rc = (int) close.invokeExact(memfd);
                throw new IOException("dup2 failed");
            }
            return memfd;
        }

        /** Points fd 1 back where it was; returns what was written meanwhile. */
        String restore(int memfd) {
            try {
                System.out.flush();
                int rc = (int) fflush.invokeExact(MemorySegment.NULL);
                rc = (int) dup2.invokeExact(saved[0], 1);
                rc = (int) close.invokeExact(saved[0]);
                String text = new String(Files.readAllBytes(Path.of("/proc/self/fd/" + memfd)), StandardCharsets.UTF_8);
                rc = (int) close.invokeExact(memfd);
                return text;
            } catch (Throwable e) {
                return "";
            }
        }
    }
}
