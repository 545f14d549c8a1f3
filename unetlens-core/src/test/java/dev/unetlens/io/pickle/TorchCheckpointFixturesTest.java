package dev.unetlens.io.pickle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.UnetlensException;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.TensorInfo;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Checkpoints in the forms real Stable Diffusion files take, written by torch 1.13's {@code torch.save}
 * ({@code testdata/ckpt-fixtures/make.py}): Lightning checkpoints with callback, optimizer and scheduler state, EMA
 * weights and numpy scalars; the legacy layout; protocol 4; shared storages and views with offsets, transposed and
 * strided views, parameters, tensors with Python attributes, every dtype; {@code state_dict}, {@code model},
 * {@code module} and DistributedDataParallel wrappers. Each loads tensors bit-identical to what torch held (the
 * {@code .expected.safetensors} beside it), from the dict its case names. The hostile ones (a pickle that would run
 * {@code os.system}, a TorchScript program, a view that repeats elements) are refused in one line naming the reason.
 */
class TorchCheckpointFixturesTest {
    @TestFactory
    Stream<DynamicTest> everyFixture() throws IOException {
        Path dir = TorchFixtures.dir();
        JsonNode cases = new ObjectMapper().readTree(dir.resolve("cases.json").toFile()).get("cases");
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : cases) {
            Path file = dir.resolve(c.get("file").asText());
            tests.add(DynamicTest.dynamicTest(c.get("file").asText(), () -> {
                if (c.has("refused")) {
                    refused(file, c.get("refused"));
                } else {
                    loads(file, c, dir.resolve(c.get("expected").asText()));
                }
            }));
        }
        return tests.stream();
    }

    private static void loads(Path file, JsonNode c, Path expected) {
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(file); SafetensorsFile want = SafetensorsFile.open(expected)) {
            assertThat(ckpt.layout()).isEqualTo(c.get("layout").asText());
            assertThat(ckpt.wrapper()).containsExactlyElementsOf(strings(c.get("wrapper")));
            assertThat(ckpt.skipped().keySet()).containsExactlyInAnyOrderElementsOf(strings(c.get("skipped")));
            assertThat(ckpt.names()).as("state-dict order").containsExactlyElementsOf(want.names());
            for (String name : want.names()) {
                TensorInfo a = ckpt.info(name).orElseThrow();
                TensorInfo b = want.info(name).orElseThrow();
                assertThat(a.dtype()).as(name).isEqualTo(b.dtype());
                assertThat(a.shape()).as(name).isEqualTo(b.shape());
                assertThat(ckpt.data(name).mismatch(want.data(name))).as(name + ": first differing byte").isEqualTo(-1L);
            }
        }
    }

    private static void refused(Path file, JsonNode words) {
        assertThatThrownBy(() -> TorchCheckpoint.open(file).close())
                .isInstanceOf(UnetlensException.class)
                .satisfies(e -> {
                    assertThat(e.getMessage()).startsWith(file.toString()).doesNotContain("\n");
                    strings(words).forEach(w -> assertThat(e.getMessage()).contains(w));
                });
        assertThat(Path.of("PWNED")).as("a pickle's payload ran").doesNotExist();
        assertThat(Files.exists(file.resolveSibling("PWNED"))).isFalse();
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
