package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The huge-page switch reaches the C environment libtorch reads, unless the user or the kernel said no, and the
 * report says which happened.
 */
class TorchRuntimeTest {
    @Test
    void theSwitchIsInTheEnvironmentLibtorchReads() throws Throwable {
        String decided = TorchRuntime.hugePages();
        String user = System.getenv(TorchRuntime.THP_VARIABLE);
        String mode = TorchRuntime.kernelMode();
        String seen = TorchRuntime.nativeGetenv(TorchRuntime.THP_VARIABLE);
        if (user != null) {
            assertThat(decided).isEqualTo(user + " (set by the user)");
            assertThat(seen).isEqualTo(user);
        } else if (mode.equals("always") || mode.equals("madvise")) {
            assertThat(decided).isEqualTo("1");
            assertThat(seen).isEqualTo("1");
        } else {
            assertThat(decided).startsWith("0 (kernel transparent huge pages: " + mode);
            assertThat(seen).isNull();
        }
    }

    @Test
    void managersFromItWork() {
        try (NDManager m = TorchRuntime.newBaseManager()) {
            assertThat(m.ones(new Shape(1024, 1024)).sum().getFloat()).isEqualTo(1024f * 1024f); // a 4 MiB block
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "always [madvise] never|madvise",
        "[always] madvise never|always",
        "always madvise [never]|never",
        "garbage|unknown"
    })
    void readsTheKernelsChoice(String sysfs, String expected) {
        assertThat(TorchRuntime.selected(sysfs)).isEqualTo(expected);
        assertThat(TorchRuntime.selected(sysfs + "\n")).isEqualTo(expected);     // as sysfs ends it
    }

    @Test
    void trimmingTheHeapReleasesFreedBlocksOnGlibc() throws Throwable {
        java.lang.foreign.Linker linker = java.lang.foreign.Linker.nativeLinker();
        var lookup = linker.defaultLookup();
        var malloc = linker.downcallHandle(lookup.find("malloc").orElseThrow(), java.lang.foreign.FunctionDescriptor.of(
                java.lang.foreign.ValueLayout.ADDRESS, java.lang.foreign.ValueLayout.JAVA_LONG));
        var free = linker.downcallHandle(lookup.find("free").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.ofVoid(java.lang.foreign.ValueLayout.ADDRESS));
        java.lang.foreign.MemorySegment[] blocks = new java.lang.foreign.MemorySegment[64];
        for (int i = 0; i < blocks.length; i++) {                              // 4 MiB of heap blocks, touched
            blocks[i] = ((java.lang.foreign.MemorySegment) malloc.invokeExact(64L << 10)).reinterpret(64L << 10);
            blocks[i].fill((byte) 1);
        }
        for (int i = 0; i < blocks.length - 1; i++) {        // freed below a live block, so free() cannot trim them
            free.invokeExact(blocks[i]);
        }
        boolean glibc = lookup.find("gnu_get_libc_version").isPresent();
        assertThat(TorchRuntime.trimHeap()).isEqualTo(glibc);
        free.invokeExact(blocks[blocks.length - 1]);
    }

    @Test
    void onlyMapsOverTheHeapBlockLimitTrimFirstAndTheMapPassesThrough() {
        long limit = TorchRuntime.HEAP_BLOCK_LIMIT / Float.BYTES;
        assertThat(TorchRuntime.overHeapBlockLimit(limit)).isFalse();            // 512 channels at 128×128: 32 MiB
        assertThat(TorchRuntime.overHeapBlockLimit(limit + 1)).isTrue();
        assertThat(TorchRuntime.overHeapBlockLimit(512L * 256 * 256)).isTrue();  // the decoder's third block's input
        try (NDManager m = TorchRuntime.newBaseManager()) {
            NDArray large = m.zeros(new Shape(limit + 1));
            assertThat(TorchRuntime.trimHeapBefore(large)).isSameAs(large);
        }
    }
}
