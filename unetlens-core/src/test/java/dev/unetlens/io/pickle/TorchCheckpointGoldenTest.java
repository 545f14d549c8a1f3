package dev.unetlens.io.pickle;

import dev.unetlens.golden.Golden;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.TensorInfo;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The golden {@code .ckpt} files (README §18: tiny-sd15 saved by torch 1.13's {@code torch.save} as a
 * Lightning-style {@code {"state_dict": ..., "epoch", "global_step"}}, fp32 and fp16): each has the recorded size,
 * SHA-256 and tensor count, and every tensor loads bit-identical (name, dtype, shape, bytes, order) to the
 * safetensors file its index entry names in {@code same_tensors_as}.
 */
class TorchCheckpointGoldenTest {
    @TestFactory
    Stream<DynamicTest> everyCheckpointLoadsBitIdenticalToItsSafetensors() {
        Golden g = Golden.get();
        List<DynamicTest> tests = new ArrayList<>();
        g.entries("models/ckpt").forEach(e -> tests.add(DynamicTest.dynamicTest(e.file(), () -> {
            Path file = g.use(e.file());
            assertThat(Files.size(file)).isEqualTo(e.node().get("bytes").asLong());
            assertThat(OutputDirectory.sha256(file)).isEqualTo(e.node().get("sha256").asText());
            try (TorchCheckpoint ckpt = TorchCheckpoint.open(file);
                 SafetensorsFile same = SafetensorsFile.open(g.use(e.node().get("same_tensors_as").asText()))) {
                assertThat(ckpt.layout()).isEqualTo("zip");
                assertThat(ckpt.wrapper()).containsExactly("state_dict");
                assertThat(ckpt.skipped()).isEmpty();
                assertThat(ckpt.names()).hasSize(e.node().get("tensors").asInt());
                assertThat(ckpt.names()).containsExactlyInAnyOrderElementsOf(same.names());
                for (String name : same.names()) {
                    TensorInfo a = ckpt.info(name).orElseThrow();
                    TensorInfo b = same.info(name).orElseThrow();
                    assertThat(a.dtype()).as(name).isEqualTo(b.dtype());
                    assertThat(a.shape()).as(name).isEqualTo(b.shape());
                    MemorySegment x = ckpt.data(name);
                    MemorySegment y = same.data(name);
                    assertThat(x.byteSize()).as(name).isEqualTo(y.byteSize());
                    assertThat(x.mismatch(y)).as(name + " first differing byte").isEqualTo(-1L);
                }
            }
        })));
        tests.add(DynamicTest.dynamicTest("every models/ckpt fixture used",
                () -> assertThat(g.unread("models/ckpt", null)).isEmpty()));
        return tests.stream();
    }
}
