package dev.unetlens.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.golden.Golden;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fixture checkpoints (diffusers folders, single-file, fp16/bf16 variants) open under the strict reader, match
 * their index entries, and come back out of the writer with the same bytes: identical data sections and headers
 * that differ at most in where {@code __metadata__} sits (the fixtures put it last, the reference serializer first).
 */
class SafetensorsGoldenTest {
    static Stream<Named<Path>> checkpoints() {
        Path root = Golden.get().root();
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(p -> p.toString().endsWith(".safetensors")).sorted()
                    .map(p -> Named.of(root.relativize(p).toString(), p)).toList().stream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("checkpoints")
    void opensMatchesTheIndexAndRewritesIdentically(Path file) throws IOException {
        String relative = Golden.get().root().relativize(file).toString();
        Optional<JsonNode> entry = Golden.get().entries().stream().filter(e -> e.file().equals(relative))
                .map(Golden.Entry::node).findFirst();
        byte[] original = Files.readAllBytes(Golden.get().use(relative));
        byte[] rewritten;
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertThat(st.tensors()).isNotEmpty()
                    .allSatisfy(t -> assertThat(t.dtype()).isIn(DType.F32, DType.F16, DType.BF16));
            entry.map(e -> e.get("tensors")).ifPresent(n -> assertThat(st.names()).hasSize(n.asInt()));
            entry.map(e -> e.get("bytes")).ifPresent(n -> assertThat((long) original.length).isEqualTo(n.asLong()));
            SafetensorsWriter w = new SafetensorsWriter().addAll(st);
            if (st.hasMetadata()) {
                w.metadata(st.metadata());
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream(original.length);
            w.writeTo(out);
            rewritten = out.toByteArray();
            String metadata = st.hasMetadata() ? "\"__metadata__\":" + new ObjectMapper().writeValueAsString(st.metadata())
                    : null;
            assertSameButMetadataPlace(original, rewritten, metadata);
        }
    }

    private static void assertSameButMetadataPlace(byte[] original, byte[] rewritten, String metadata) {
        int n = headerLength(original);
        int m = headerLength(rewritten);
        assertThat(Arrays.copyOfRange(rewritten, 8 + m, rewritten.length))
                .as("data section").isEqualTo(Arrays.copyOfRange(original, 8 + n, original.length));
        String theirs = new String(original, 8, n, StandardCharsets.UTF_8).strip();
        String ours = new String(rewritten, 8, m, StandardCharsets.UTF_8).strip();
        if (metadata == null) {
            assertThat(ours).isEqualTo(theirs);
            assertThat(rewritten).isEqualTo(original);
            return;
        }
        String tensors = theirs.startsWith("{" + metadata + ",") ? "{" + theirs.substring(metadata.length() + 2)
                : theirs.replace("," + metadata + "}", "}");
        assertThat(tensors).as("the fixture's header has the metadata first or last").doesNotContain("__metadata__");
        assertThat(ours).isEqualTo("{" + metadata + "," + tensors.substring(1));
    }

    private static int headerLength(byte[] file) {
        return (int) ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }
}
