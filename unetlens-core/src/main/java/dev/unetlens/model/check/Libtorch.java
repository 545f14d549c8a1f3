package dev.unetlens.model.check;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * What libtorch says about itself, read through its exported C++ functions (Java's foreign-function API): the
 * oneDNN version string ({@code at::get_mkldnn_version}), ATen's CPU capability ({@code at::get_cpu_capability},
 * the kernels ATen dispatches to: "AVX512", "AVX2", "DEFAULT") and the switch for oneDNN's verbose mode
 * ({@code torch::verbose::_mkldnn_set_verbose}, what {@code torch.backends.mkldnn.verbose} calls). Each is looked up
 * by its mangled name in the libraries DJL loaded; where one is missing (another libtorch build) the answer is
 * empty, never an error.
 *
 * <p>The two string functions return a {@code std::string} by value: under the x86-64 C++ ABI the caller passes the
 * address of 32 bytes for it as a hidden first argument, and the string is libstdc++'s {@code {char* data; size_t
 * length; char local[16]}}. Its storage is not freed (two short strings, once per process).
 */
final class Libtorch {
    private static final String ONEDNN_VERSION = "_ZN2at18get_mkldnn_versionB5cxx11Ev";
    private static final String CPU_CAPABILITY = "_ZN2at18get_cpu_capabilityB5cxx11Ev";
    private static final String SET_VERBOSE = "_ZN5torch7verbose19_mkldnn_set_verboseEi";
    private static final long STD_STRING_BYTES = 32;
    private static final long STRING_LIMIT = 4096;

    private Libtorch() {
    }

    /** oneDNN's version as libtorch reports it ("Intel(R) MKL-DNN v3.7.1 (Git Hash …)"), if it says. */
    static Optional<String> oneDnnVersion() {
        return string(ONEDNN_VERSION);
    }

    /** The CPU kernels ATen dispatches to ("AVX512", "AVX2", …), if it says. */
    static Optional<String> cpuCapability() {
        return string(CPU_CAPABILITY);
    }

    /** Sets oneDNN's verbose level (0 off, 1 primitive executions, 2 also creations); false where not available. */
    static boolean setOneDnnVerbose(int level) {
        Optional<MemorySegment> f = find(SET_VERBOSE);
        if (f.isEmpty()) {
            return false;
        }
        try {
            MethodHandle h = Linker.nativeLinker().downcallHandle(f.get(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            return (int) h.invokeExact(level) != 0;
        } catch (Throwable e) {
            return false;
        }
    }

    private static Optional<String> string(String symbol) {
        Optional<MemorySegment> f = find(symbol);
        if (f.isEmpty()) {
            return Optional.empty();
        }
        try {
            MethodHandle h = Linker.nativeLinker().downcallHandle(f.get(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
            MemorySegment s = Arena.global().allocate(STD_STRING_BYTES, 8);   // the std::string, filled by the callee
            h.invokeExact(s);
            long length = s.get(ValueLayout.JAVA_LONG, 8);
            if (length < 0 || length > STRING_LIMIT) {
                return Optional.empty();
            }
            byte[] bytes = s.get(ValueLayout.ADDRESS, 0).reinterpret(length).toArray(ValueLayout.JAVA_BYTE);
            return Optional.of(new String(bytes, StandardCharsets.UTF_8).strip());
        } catch (Throwable e) {
            return Optional.empty();
        }
    }

    /** A symbol of the native libraries loaded so far (DJL loads libtorch through this class loader). */
    private static Optional<MemorySegment> find(String symbol) {
        try {
            ai.djl.engine.Engine.getInstance();                                // libtorch is loaded from here on
            return SymbolLookup.loaderLookup().find(symbol);
        } catch (RuntimeException e) {                                         // native access denied
            return Optional.empty();
        }
    }
}
