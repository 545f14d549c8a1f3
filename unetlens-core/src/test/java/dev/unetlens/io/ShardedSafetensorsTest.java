package dev.unetlens.io;

import dev.unetlens.io.SafetensorsException.Rule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Sharded checkpoints: an index whose weight_map names, for each tensor, the shard file that holds it. */
class ShardedSafetensorsTest {
    private static final String S1 = "diffusion_pytorch_model-00001-of-00002.safetensors";
    private static final String S2 = "diffusion_pytorch_model-00002-of-00002.safetensors";
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    /** Two shards: {@code a, b} in the first, {@code c} in the second. */
    private void shards() {
        new SafetensorsWriter().metadata(java.util.Map.of("format", "pt"))
                .addFloats("a", new long[] {2}, new float[] {1, 2})
                .addFloats("b", new long[] {}, new float[] {3})
                .write(dir.resolve(S1));
        new SafetensorsWriter().addFloats("c", new long[] {1, 1}, new float[] {4}).write(dir.resolve(S2));
    }

    private Path index(String name, String weightMap) throws IOException {
        return Files.writeString(dir.resolve(name), "{\"metadata\":{\"total_size\":16},\"weight_map\":" + weightMap + "}");
    }

    private Path index(String weightMap) throws IOException {
        return index("diffusion_pytorch_model.safetensors.index.json", weightMap);
    }

    private static SafetensorsException rejected(Path index, Rule rule, String tensor) {
        Throwable t = catchThrowable(() -> ShardedSafetensors.open(index).close());
        assertThat(t).isExactlyInstanceOf(SafetensorsException.class);
        SafetensorsException e = (SafetensorsException) t;
        assertThat(e.rule()).as(e.getMessage()).isEqualTo(rule);
        assertThat(e.getMessage()).doesNotContain("\n").endsWith("[rule: " + rule.text() + "]");
        if (tensor != null) {
            assertThat(e.getMessage()).startsWith(index + ": tensor '" + tensor + "': ");
        }
        return e;
    }

    @ParameterizedTest
    @ValueSource(strings = {"diffusion_pytorch_model.safetensors.index.json", "model.safetensors.index.json",
        "diffusion_pytorch_model.fp16.safetensors.index.json"})
    void opensEveryShardAndReadsThroughThem(String indexName) throws IOException {
        shards();
        Path index = index(indexName, "{\"c\":\"" + S2 + "\",\"a\":\"" + S1 + "\",\"b\":\"./" + S1 + "\"}");
        ShardedSafetensors s = ShardedSafetensors.open(index);
        try (s) {
            assertThat(s.names()).containsExactly("c", "a", "b");
            assertThat(s.shards()).hasSize(2);
            assertThat(s.describe()).isEqualTo(index.toString());
            assertThat(s.info("c").orElseThrow().shape()).containsExactly(1, 1);
            assertThat(s.info("nope")).isEmpty();
            assertThat(s.data("a").toArray(F32)).containsExactly(1, 2);
            assertThat(s.data("b").toArray(F32)).containsExactly(3);
            assertThat(s.data("c").toArray(F32)).containsExactly(4);
            SafetensorsException unknown = (SafetensorsException) catchThrowable(() -> s.data("nope"));
            assertThat(unknown.rule()).isEqualTo(Rule.NO_SUCH_TENSOR);
        }
        SafetensorsException closed = (SafetensorsException) catchThrowable(() -> s.data("a"));
        assertThat(closed.rule()).isEqualTo(Rule.CLOSED);
    }

    @Test
    void missingShardFile() throws IOException {
        shards();
        Files.delete(dir.resolve(S2));
        SafetensorsException e = rejected(index("{\"a\":\"" + S1 + "\",\"b\":\"" + S1 + "\",\"c\":\"" + S2 + "\"}"),
                Rule.SHARD_INDEX, "c");
        assertThat(e.getMessage()).contains("shard '" + S2 + "', which does not exist");
    }

    @Test
    void shardHoldingATensorTheIndexDoesNotList() throws IOException {
        shards();
        SafetensorsException e = rejected(index("{\"a\":\"" + S1 + "\",\"c\":\"" + S2 + "\"}"), Rule.SHARD_MISMATCH, "b");
        assertThat(e.getMessage()).contains("weight_map does not list it");
    }

    @Test
    void indexMappingATensorToAShardThatLacksIt() throws IOException {
        shards();
        SafetensorsException e = rejected(index("{\"a\":\"" + S1 + "\",\"b\":\"" + S1 + "\",\"c\":\"" + S2 + "\",\"d\":\""
                + S2 + "\"}"), Rule.SHARD_MISMATCH, "d");
        assertThat(e.getMessage()).contains("which does not hold it");
    }

    @Test
    void tensorMappedToTheWrongShard() throws IOException {
        shards();
        SafetensorsException e = rejected(index("{\"a\":\"" + S1 + "\",\"b\":\"" + S2 + "\",\"c\":\"" + S2 + "\"}"),
                Rule.SHARD_MISMATCH, "b");
        assertThat(e.getMessage()).contains("weight_map maps it to '" + S2 + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"../outside.safetensors", "/abs/x.safetensors", "", "."})
    void shardPathsOutsideTheIndexFolder(String shard) throws IOException {
        shards();
        rejected(index("{\"a\":\"" + shard + "\"}"), Rule.SHARD_INDEX, "a");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "3", "null", "{\"a\":1}", "{\"a\":null}", "{\"a\":\"x\",\"a\":\"x\"}"})
    void weightMapThatIsNotANameToFileMap(String weightMap) throws IOException {
        rejected(index(weightMap), Rule.SHARD_INDEX, null);
    }

    @Test
    void indexThatIsNotJsonOrMissing() throws IOException {
        Path bad = Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\":{}} trailing");
        rejected(bad, Rule.SHARD_INDEX, null);
        rejected(dir.resolve("absent.index.json"), Rule.IO, null);
        Path noMap = Files.writeString(dir.resolve("x.index.json"), "{\"metadata\":{}}");
        assertThat(rejected(noMap, Rule.SHARD_INDEX, null).getMessage()).contains("no weight_map");
    }

    @Test
    void corruptShardReportsTheShardsRule() throws IOException {
        shards();
        Files.write(dir.resolve(S2), new byte[3]);
        Path index = index("{\"a\":\"" + S1 + "\",\"b\":\"" + S1 + "\",\"c\":\"" + S2 + "\"}");
        Throwable t = catchThrowable(() -> ShardedSafetensors.open(index));
        assertThat(((SafetensorsException) t).rule()).isEqualTo(Rule.FILE_TOO_SHORT);
        assertThat(t.getMessage()).startsWith(dir.resolve(S2).toAbsolutePath().normalize() + ": ");
    }

    @Test
    void emptyWeightMapIsAnEmptySource() throws IOException {
        try (ShardedSafetensors s = ShardedSafetensors.open(index("{}"))) {
            assertThat(s.names()).isEmpty();
            assertThat(s.shards()).isEmpty();
        }
    }
}
