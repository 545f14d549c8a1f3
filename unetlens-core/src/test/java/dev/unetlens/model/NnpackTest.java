package dev.unetlens.model;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * libtorch's NNPACK backend is off once unetlens has opened a manager, so libtorch does not log "Could not initialize
 * NNPACK!" before every small convolution on CPUs that NNPACK does not support (it logs nothing else there).
 */
class NnpackTest {
    @Test
    void isOff() {
        TorchRuntime.newBaseManager().close();
        assertThat(TorchRuntime.nnpack()).isEqualTo("off");
    }

    @Test
    void smallConvolutionsLogNothing() throws Exception {
        assertThat(stderr("unetlens")).isEmpty();
    }

    /** stderr of {@link QuietConvolution} in a fresh JVM, without the JVM's own warnings. */
    private static List<String> stderr(String mode) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=off", "-cp", System.getProperty("java.class.path"),
                QuietConvolution.class.getName(), mode).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(err).isZero();
        assertThat(out).contains("done");
        return err.lines().filter(l -> !l.startsWith("WARNING:")).toList();
    }
}
