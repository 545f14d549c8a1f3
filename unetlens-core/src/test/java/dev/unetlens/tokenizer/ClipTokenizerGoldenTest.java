package dev.unetlens.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.NpyArray;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every golden tokenizer case (README §2, §11): each {@code cases/<model>/<kind>/tokenizer_cases.json} whose kind
 * starts with {@code tokenizer}, run through {@code models/<model>/<kind>} as loaded from its files and through
 * {@link ClipTokenizer#bundled} with the case file's pad token. Models and kinds come from the folder layout.
 */
class ClipTokenizerGoldenTest {
    private static final String CASES_FILE = "tokenizer_cases.json";

    @TestFactory
    Stream<DynamicNode> everyTokenizerKind() {
        List<String> kinds = tokenizerKinds();
        assertThat(kinds).as("tokenizer case folders under cases/").isNotEmpty();
        return kinds.stream().map(kind -> DynamicContainer.dynamicContainer(kind,
                Golden.get().modelsWith(kind).stream().map(model -> modelCases(kind, model))));
    }

    /** Folder names {@code cases/<model>/tokenizer*} holding a case file, over all models. */
    private static List<String> tokenizerKinds() {
        Golden g = Golden.get();
        TreeSet<String> kinds = new TreeSet<>();
        for (String model : g.models()) {
            Path dir = g.path("cases/" + model);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> s = Files.list(dir)) {
                s.filter(p -> p.getFileName().toString().startsWith("tokenizer"))
                        .filter(p -> Files.isRegularFile(p.resolve(CASES_FILE)))
                        .forEach(p -> kinds.add(p.getFileName().toString()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return List.copyOf(kinds);
    }

    private static DynamicContainer modelCases(String kind, String model) {
        String dir = "cases/" + model + "/" + kind + "/";
        JsonNode file = Golden.get().json(dir + CASES_FILE);
        ClipTokenizer loaded = ClipTokenizer.load(Golden.get().path("models/" + model + "/" + kind));
        ClipTokenizer bundled = ClipTokenizer.bundled(file.get("pad_token").asText());
        List<JsonNode> cases = new ArrayList<>();
        file.get("cases").forEach(cases::add);

        List<DynamicNode> tests = new ArrayList<>();
        tests.add(DynamicTest.dynamicTest("special ids and length", () -> {
            for (ClipTokenizer t : List.of(loaded, bundled)) {
                assertThat(t.bosId()).isEqualTo(file.get("bos_token_id").asLong());
                assertThat(t.eosId()).isEqualTo(file.get("eos_token_id").asLong());
                assertThat(t.padId()).isEqualTo(file.get("pad_token_id").asLong());
                assertThat(t.modelMaxLength()).isEqualTo(file.get("model_max_length").asInt());
                assertThat(t.vocabSize()).isEqualTo(file.get("vocab_size").asInt());
            }
        }));
        for (int i = 0; i < cases.size(); i++) {
            JsonNode c = cases.get(i);
            String name = "case %02d %s".formatted(i, abbreviate(c.get("text").asText()));
            tests.add(DynamicTest.dynamicTest(name, () -> {
                checkCase(loaded, c);
                checkCase(bundled, c);
            }));
        }
        tests.add(DynamicTest.dynamicTest("input_ids.npy and attention_mask.npy", () -> {
            NpyArray ids = Golden.get().npy(dir + "input_ids.npy");
            NpyArray mask = Golden.get().npy(dir + "attention_mask.npy");
            int n = loaded.modelMaxLength();
            assertThat(ids.shape()).containsExactly(cases.size(), n);
            assertThat(mask.shape()).containsExactly(cases.size(), n);
            long[] expectedIds = ids.toLongs();
            long[] expectedMask = mask.toLongs();
            List<TokenizedPrompt> batch = loaded.encode(cases.stream().map(c -> c.get("text").asText()).toList());
            for (int i = 0; i < cases.size(); i++) {
                assertThat(batch.get(i).inputIds()).as("input_ids row %d", i)
                        .containsExactly(Arrays.copyOfRange(expectedIds, i * n, (i + 1) * n));
                assertThat(batch.get(i).attentionMask()).as("attention_mask row %d", i)
                        .containsExactly(Arrays.copyOfRange(expectedMask, i * n, (i + 1) * n));
            }
        }));
        tests.add(DynamicTest.dynamicTest("every " + kind + " fixture of " + model + " was read",
                () -> assertThat(Golden.get().unread(kind, model)).isEmpty()));
        return DynamicContainer.dynamicContainer(model, tests);
    }

    private static void checkCase(ClipTokenizer t, JsonNode c) {
        String text = c.get("text").asText();
        assertThat(t.bpeTokens(text)).as("bpe_tokens").containsExactlyElementsOf(strings(c.get("bpe_tokens")));
        long[] untruncated = t.idsUntruncated(text);
        assertThat(untruncated).as("ids_untruncated").containsExactly(longs(c.get("ids_untruncated")));
        assertThat(untruncated.length).as("n_tokens_untruncated").isEqualTo(c.get("n_tokens_untruncated").asInt());
        TokenizedPrompt p = t.encode(text);
        assertThat(p.inputIds()).as("input_ids").containsExactly(longs(c.get("input_ids")));
        assertThat(p.attentionMask()).as("attention_mask").containsExactly(longs(c.get("attention_mask")));
        assertThat(p.length()).as("length").isEqualTo(Math.min(untruncated.length, t.modelMaxLength()));
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }

    private static String abbreviate(String text) {
        String oneLine = text.replaceAll("\\p{Cntrl}", "·");
        return "'" + (oneLine.length() > 40 ? oneLine.substring(0, 40) + "…" : oneLine) + "'";
    }
}
