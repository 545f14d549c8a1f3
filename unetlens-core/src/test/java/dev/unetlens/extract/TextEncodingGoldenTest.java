package dev.unetlens.extract;

import ai.djl.ndarray.NDManager;
import dev.unetlens.golden.Close;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.hook.Component;
import dev.unetlens.io.NpyArray;
import dev.unetlens.pipeline.PromptEncoder;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.tokenizer.ClipTokenizer;
import org.junit.jupiter.api.AfterAll;
import dev.unetlens.tokenizer.TokenizedPrompt;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@code unetlens tokens} captures ({@link TextEncoding}) against the fixtures' text-encoder cases
 * ({@code cases/<model>/text_encoder*}): for each prompt's ids, the input embeddings and every layer's state
 * ({@code hidden_states}), the last hidden state, the pooled output at the pooled position, and with a projection the
 * text embeddings. Tolerance: golden README §9, single modules atol 1e-5, rtol 1e-4. The token and position
 * embeddings are checked exactly: rows of their tables, summing bit for bit to the input embeddings.
 */
class TextEncodingGoldenTest {
    private static final double ATOL = 1e-5;
    private static final double RTOL = 1e-4;
    private static final NDManager MANAGER = NDManager.newBaseManager();

    @AfterAll
    static void close() {
        MANAGER.close();
    }

    @TestFactory
    Stream<DynamicNode> textEncoders() {
        return Stream.of(Component.TEXT_ENCODER, Component.TEXT_ENCODER_2).flatMap(c ->
                Golden.get().modelsWith(c.cliName()).stream().map(model -> {
                    List<DynamicNode> tests = new ArrayList<>();
                    PromptEncoder.TextStack[] stack = new PromptEncoder.TextStack[1];
                    tests.add(DynamicTest.dynamicTest("load", () -> stack[0] = load(model, c)));
                    for (String ids : GoldenModels.caseFiles(model, c.cliName())) {
                        if (ids.endsWith("_input_ids.npy")) {
                            String prefix = ids.substring(0, ids.length() - "input_ids.npy".length());
                            tests.add(DynamicTest.dynamicTest(prefix.substring(prefix.lastIndexOf('/') + 1),
                                    () -> check(stack[0], c, prefix)));
                        }
                    }
                    return DynamicContainer.dynamicContainer(model + "/" + c, tests);
                }));
    }

    /** The tokenizer and text encoder of a golden model's component (nothing else is loaded). */
    private static PromptEncoder.TextStack load(String model, Component c) {
        DiffusersFolder folder = DiffusersFolder.open(Golden.get().path("models/" + model));
        ClipTextConfig config = ClipTextConfig.read(folder.config(c.cliName()));
        try (TensorSource src = folder.openWeights(c.cliName(), null)) {
            return new PromptEncoder.TextStack(ClipTokenizer.load(folder.component(c.cliName().replace("text_encoder", "tokenizer"))),
                    ClipTextModel.load(src, config, MANAGER));
        }
    }

    private static void check(PromptEncoder.TextStack stack, Component c, String prefix) {
        Golden g = Golden.get();
        try (NDManager m = MANAGER.newSubManager()) {
            long[] ids = g.npy(prefix + "input_ids.npy").toLongs();
            TextEncoding e = TextEncoding.of(c, stack.tokenizer(), stack.encoder(), prompt(stack, ids), m);
            int t = e.tokens();
            int d = e.width();
            long[] shape = {1, t, d};
            NpyArray states = g.npy(prefix + "hidden_states.npy");
            float[] all = states.toFloats();
            List<float[]> ours = e.hiddenStates();
            assertThat(ours).hasSize((int) states.shape()[0]);
            for (int l = 0; l < ours.size(); l++) {
                NpyArray expected = NpyArray.ofFloats(shape, Arrays.copyOfRange(all, l * t * d, (l + 1) * t * d));
                Close.assertClose(prefix + "hidden_states.npy[" + l + "]", shape, ours.get(l), expected, ATOL, RTOL);
            }
            Close.assertClose(prefix + "last_hidden_state.npy", shape, e.lastHiddenState(),
                    g.npy(prefix + "last_hidden_state.npy"), ATOL, RTOL);
            Close.assertClose(prefix + "pooler_output.npy", new long[] {1, d}, e.pooled(),
                    g.npy(prefix + "pooler_output.npy"), ATOL, RTOL);
            assertThat(Arrays.copyOfRange(e.lastHiddenState(), e.pooledPosition() * d, (e.pooledPosition() + 1) * d))
                    .containsExactly(e.pooled());
            if (g.exists(prefix + "text_embeds.npy")) {
                Close.assertClose(prefix + "text_embeds.npy", new long[] {1, e.textEmbeds().length}, e.textEmbeds(),
                        g.npy(prefix + "text_embeds.npy"), ATOL, RTOL);
            }
            float[] table = stack.encoder().tokenEmbeddingTable().toFloatArray();
            for (int p = 0; p < t; p++) {
                assertThat(Arrays.copyOfRange(e.tokenEmbeddings(), p * d, (p + 1) * d)).as("token embedding at " + p)
                        .containsExactly(Arrays.copyOfRange(table, (int) ids[p] * d, (int) (ids[p] + 1) * d));
                for (int k = 0; k < d; k++) {
                    int i = p * d + k;
                    assertThat(e.inputEmbeddings()[i]).isEqualTo(e.tokenEmbeddings()[i] + e.positionEmbeddings()[i]);
                }
            }
        }
    }

    /** The fixture's ids as a tokenized prompt: texts from the vocabulary, length through the first end token. */
    private static TokenizedPrompt prompt(PromptEncoder.TextStack stack, long[] ids) {
        int eos = 0;
        while (eos < ids.length - 1 && ids[eos] != stack.tokenizer().eosId()) {
            eos++;
        }
        long[] mask = new long[ids.length];
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < ids.length; i++) {
            mask[i] = i <= eos ? 1 : 0;
            texts.add(i <= eos ? stack.tokenizer().tokenText(ids[i]) : TokenizedPrompt.PADDING);
        }
        return new TokenizedPrompt(ids, mask, eos + 1, texts);
    }
}
