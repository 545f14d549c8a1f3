package dev.unetlens.golden;

import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.SafetensorsFile;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The weight files the index lists under {@code models/} (single-file checkpoints, fp16 / bf16 variant files):
 * each has the recorded size and SHA-256 and opens as strict safetensors with the recorded tensor count. What their
 * tensors compute is checked by the single-file and half-weight tests.
 */
class ModelFilesGoldenTest {
    @TestFactory
    Stream<DynamicTest> modelFiles() {
        Golden g = Golden.get();
        List<DynamicTest> tests = new ArrayList<>();
        g.entries("models").forEach(e -> tests.add(DynamicTest.dynamicTest(e.file(), () -> {
            var file = g.use(e.file());
            assertThat(Files.size(file)).isEqualTo(e.node().get("bytes").asLong());
            assertThat(OutputDirectory.sha256(file)).isEqualTo(e.node().get("sha256").asText());
            try (SafetensorsFile s = SafetensorsFile.open(file)) {
                if (e.node().has("tensors")) {
                    assertThat(s.names()).hasSize(e.node().get("tensors").asInt());
                }
            }
        })));
        tests.add(DynamicTest.dynamicTest("every models/ fixture used", () -> assertThat(g.unread("models", null)).isEmpty()));
        return tests.stream();
    }
}
