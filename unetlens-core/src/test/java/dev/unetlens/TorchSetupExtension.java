package dev.unetlens;

import dev.unetlens.model.TorchRuntime;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Applies unetlens' libtorch process settings ({@link TorchRuntime}: huge pages, OpenMP wait policy, NNPACK off)
 * before any test class runs, as the library does before its first tensor — also for the tests that open their own
 * managers. Registered for every test class through JUnit's extension auto-detection
 * ({@code META-INF/services/org.junit.jupiter.api.extension.Extension}, switched on in {@code junit-platform.properties};
 * both travel in the core's test jar to the modules that use it).
 */
public final class TorchSetupExtension implements BeforeAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) {
        TorchRuntime.newBaseManager().close();
    }
}
