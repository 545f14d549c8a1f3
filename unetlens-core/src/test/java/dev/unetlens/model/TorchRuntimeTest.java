package dev.unetlens.model;

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
}
