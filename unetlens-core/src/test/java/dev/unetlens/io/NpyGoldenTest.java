package dev.unetlens.io;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.golden.Golden;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Every {@code .npy} fixture whose index entry gives its shape and dtype reads with that shape and dtype, its
 * values match the index's min/max/mean, and writing it back gives numpy's bytes exactly.
 */
class NpyGoldenTest {
    private static final Map<String, DType> NUMPY_NAMES = Map.ofEntries(Map.entry("bool", DType.BOOL),
            Map.entry("uint8", DType.U8), Map.entry("int8", DType.I8), Map.entry("int16", DType.I16),
            Map.entry("uint16", DType.U16), Map.entry("float16", DType.F16), Map.entry("int32", DType.I32),
            Map.entry("uint32", DType.U32), Map.entry("float32", DType.F32), Map.entry("float64", DType.F64),
            Map.entry("int64", DType.I64), Map.entry("uint64", DType.U64));

    static Stream<Golden.Entry> npyEntries() {
        return Golden.get().entries().stream()
                .filter(e -> e.file().endsWith(".npy") && e.node().has("shape") && e.node().has("dtype"));
    }

    static Stream<Named<Golden.Entry>> namedNpyEntries() {
        return npyEntries().map(e -> Named.of(e.file(), e));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("namedNpyEntries")
    void readsWithTheIndexedShapeAndDtype(Golden.Entry entry) throws IOException {
        NpyArray a = Golden.get().npy(entry.file());
        assertThat(a.shape()).isEqualTo(entry.shape());
        assertThat(a.dtype()).isEqualTo(NUMPY_NAMES.get(entry.node().get("dtype").asText()));
        JsonNode stats = entry.node().get("stats");
        if (stats != null && a.size() > 0) {
            double[] v = a.toDoubles();
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            double sum = 0;
            for (double x : v) {
                min = Math.min(min, x);
                max = Math.max(max, x);
                sum += x;
            }
            assertThat(min).isEqualTo(stats.get("min").asDouble());
            assertThat(max).isEqualTo(stats.get("max").asDouble());
            double scale = Math.max(1, Math.max(Math.abs(min), Math.abs(max)));
            assertThat(sum / v.length).isCloseTo(stats.get("mean").asDouble(), within(1e-5 * scale));
        }
        assertThat(Npy.toBytes(a)).as("numpy's exact bytes").isEqualTo(Files.readAllBytes(Golden.get().path(entry.file())));
    }

    @Test
    void everyNpyFileOnDiskIsIndexed() throws IOException {
        Path root = Golden.get().root();
        Set<String> indexed = npyEntries().map(Golden.Entry::file).collect(Collectors.toSet());
        try (Stream<Path> files = Files.walk(root)) {
            assertThat(files.filter(p -> p.toString().endsWith(".npy")).map(p -> root.relativize(p).toString()))
                    .isNotEmpty()
                    .allSatisfy(f -> assertThat(indexed).contains(f));
        }
    }
}
