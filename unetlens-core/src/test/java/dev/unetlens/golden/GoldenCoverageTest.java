package dev.unetlens.golden;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keeps the golden harness honest: every fixture file in {@code index.json} belongs to a case kind that a test in
 * this module runs (each such test ends by asserting it read every file of its kind), or to a kind on the one
 * explicit list of kinds not yet implemented, which is printed with the number of files not run. A fixture set
 * with a kind nobody knows fails here instead of being skipped silently.
 */
class GoldenCoverageTest {
    /** Kinds that a golden test of this module runs, with the test that does. */
    static final Map<String, String> IMPLEMENTED = Map.ofEntries(
            Map.entry("tokenizer", "tokenizer.ClipTokenizerGoldenTest"),
            Map.entry("tokenizer_2", "tokenizer.ClipTokenizerGoldenTest"),
            Map.entry("text_encoder", "model.clip.ClipTextModelGoldenTest"),
            Map.entry("text_encoder_2", "model.clip.ClipTextModelGoldenTest"),
            Map.entry("vae", "model.vae.AutoencoderKLGoldenTest"),
            Map.entry("prompt_encoding", "pipeline.PromptEncodingGoldenTest"),
            Map.entry("half_weights", "model.HalfWeightsGoldenTest"),
            Map.entry("half_weights/text_encoder", "model.HalfWeightsGoldenTest"),
            Map.entry("half_weights/vae", "model.HalfWeightsGoldenTest"),
            Map.entry("schedulers", "schedule.SchedulerGoldenTest"),
            Map.entry("torch_rng", "rng.TorchGeneratorGoldenTest"),
            Map.entry("unet", "model.unet.UNet2DConditionModelGoldenTest"),
            Map.entry("half_weights/unet", "model.unet.UNet2DConditionModelGoldenTest"),
            Map.entry("pipeline", "pipeline.PipelineGoldenTest"),
            Map.entry("models", "golden.ModelFilesGoldenTest"),
            Map.entry("models/ckpt", "io.pickle.TorchCheckpointGoldenTest"));

    /** The one list of case kinds not implemented yet (none: every kind of the fixture set has its test). */
    static final Set<String> NOT_YET_IMPLEMENTED = Set.of();

    @Test
    void everyFixtureBelongsToAKnownKind() {
        Map<String, Integer> counts = new TreeMap<>();
        Golden.get().entries().forEach(e -> counts.merge(e.kind(), 1, Integer::sum));
        List<String> unknown = counts.keySet().stream()
                .filter(k -> !IMPLEMENTED.containsKey(k) && !NOT_YET_IMPLEMENTED.contains(k)).toList();
        assertThat(unknown).as("fixture kinds that no test runs and that are not listed as not yet implemented")
                .isEmpty();
        int notRun = NOT_YET_IMPLEMENTED.stream().mapToInt(k -> counts.getOrDefault(k, 0)).sum();
        StringBuilder sb = new StringBuilder("golden fixtures: ").append(Golden.get().entries().size())
                .append(" files in ").append(counts.size()).append(" kinds under ").append(Golden.get().root());
        sb.append("\n  not yet implemented: ");
        if (NOT_YET_IMPLEMENTED.isEmpty()) {
            sb.append("none");
        }
        NOT_YET_IMPLEMENTED.stream().sorted().forEach(k ->
                sb.append(k).append(" (").append(counts.getOrDefault(k, 0)).append(" files) "));
        sb.append("\n  fixture files not run: ").append(notRun);
        if (!Golden.get().absent().isEmpty()) {
            sb.append("\n  index entries without a file (left out of every test): ").append(Golden.get().absent().size());
        }
        System.out.println(sb);
    }

    @Test
    void implementedKindsNameExistingTests() throws ClassNotFoundException {
        for (String test : Set.copyOf(IMPLEMENTED.values())) {
            assertThat(Class.forName("dev.unetlens." + test)).isNotNull();
        }
    }
}
