package dev.unetlens.model;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * Turns libtorch's NNPACK convolution backend off, as {@code torch.backends.nnpack.set_flags(False)} does
 * ({@code at::globalContext().setUserEnabledNNPACK(false)}, called through FFM on the loaded {@code libtorch_cpu.so}).
 *
 * <p>Why: on a CPU that NNPACK does not support, libtorch 2.7 asks NNPACK to initialise before every eligible
 * convolution and logs "Could not initialize NNPACK! Reason: Unsupported hardware." each time (20,585 of the test
 * run's 20,733 stderr lines). Where NNPACK does work, libtorch would use it only for batches of 16 and more; with it
 * off, every CPU runs the same convolution kernels (oneDNN and unetlens' own), which is what the golden tests check.
 */
final class Nnpack {
    private static final String LIBRARY = "libtorch_cpu.so";

    private Nnpack() {
    }

    /** Turns it off; returns what was done, for run records ("off", or why it could not be). */
    static String disable() {
        try {
            Path lib = NativeLibraries.loaded(LIBRARY);
            if (lib == null) {
                return "unchanged (" + LIBRARY + " not loaded)";
            }
            Linker linker = Linker.nativeLinker();
            SymbolLookup symbols = SymbolLookup.libraryLookup(lib, Arena.global());
            MethodHandle context = linker.downcallHandle(symbols.find("_ZN2at13globalContextEv").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS));
            MethodHandle set = linker.downcallHandle(symbols.find("_ZN2at7Context20setUserEnabledNNPACKEb").orElseThrow(),
                    FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_BOOLEAN));
            MemorySegment ctx = (MemorySegment) context.invokeExact();
            set.invokeExact(ctx, false);
            return "off";
        } catch (Throwable e) {                     // another libtorch build, native access denied: leave it
            return "unchanged (" + e + ")";
        }
    }
}
