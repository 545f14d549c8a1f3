package dev.unetlens.model.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.TensorSource;
import dev.unetlens.tokenizer.ClipTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.unetlens.golden.GoldenModels.assertClose;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * CLIP text encoders against {@code cases/<model>/text_encoder*}: for every case with recorded input ids, the
 * last hidden state, every hidden state, the penultimate state with and without the final LayerNorm, the pooled
 * output and (with projection) the text embeddings. Tolerance: golden README §9, single modules atol 1e-5,
 * rtol 1e-4.
 */
class ClipTextModelGoldenTest {
    static final double ATOL = 1e-5;
    static final double RTOL = 1e-4;
    private static final NDManager MANAGER = NDManager.newBaseManager();

    @AfterAll
    static void close() {
        MANAGER.close();
    }

    @TestFactory
    Stream<DynamicNode> textEncoder() {
        return kind("text_encoder");
    }

    @TestFactory
    Stream<DynamicNode> textEncoder2() {
        return kind("text_encoder_2");
    }

    private Stream<DynamicNode> kind(String kind) {
        Golden g = Golden.get();
        return g.modelsWith(kind).stream().map(model -> {
            List<DynamicNode> tests = new ArrayList<>();
            ClipTextModel[] encoder = new ClipTextModel[1];
            tests.add(DynamicTest.dynamicTest("load", () -> encoder[0] = load(model, kind)));
            List<String> files = GoldenModels.caseFiles(model, kind);
            for (String ids : files) {
                if (ids.endsWith("_input_ids.npy")) {
                    String prefix = ids.substring(0, ids.length() - "input_ids.npy".length());
                    tests.add(DynamicTest.dynamicTest(prefix.substring(prefix.lastIndexOf('/') + 1),
                            () -> checkCase(encoder[0], prefix)));
                }
            }
            // the empty prompt's encoding is stored without ids where the pipeline tokenizes "" itself
            String empty = "cases/" + model + "/" + kind + "/empty_";
            if (files.contains(empty + "last_hidden_state.npy") && !files.contains(empty + "input_ids.npy")) {
                String tokenizer = kind.replace("text_encoder", "tokenizer");
                tests.add(DynamicTest.dynamicTest("empty prompt", () -> {
                    ClipTokenizer tok = ClipTokenizer.load(g.path("models/" + model + "/" + tokenizer));
                    try (NDManager m = MANAGER.newSubManager()) {
                        NDArray ids = m.create(tok.encode("").inputIds(), new ai.djl.ndarray.types.Shape(1, tok.modelMaxLength()));
                        assertClose(empty + "last_hidden_state.npy", encoder[0].forward(ids).lastHiddenState(), ATOL, RTOL);
                    }
                }));
            }
            tests.add(DynamicTest.dynamicTest("every " + kind + " fixture used",
                    () -> assertThat(g.unread(kind, model)).isEmpty()));
            return DynamicContainer.dynamicContainer(model + "/" + kind, tests);
        });
    }

    static ClipTextModel load(String model, String component) {
        DiffusersFolder folder = DiffusersFolder.open(Golden.get().path("models/" + model));
        ClipTextConfig config = ClipTextConfig.read(folder.config(component));
        try (TensorSource src = folder.openWeights(component, null)) {
            return ClipTextModel.load(src, config, MANAGER);
        }
    }

    private static void checkCase(ClipTextModel encoder, String prefix) {
        assertThat(encoder).as("encoder loaded").isNotNull();
        Golden g = Golden.get();
        try (NDManager m = MANAGER.newSubManager()) {
            NDArray ids = GoldenModels.load(m, prefix + "input_ids.npy");
            ClipTextOutput out = encoder.forward(ids);
            assertClose(prefix + "last_hidden_state.npy", out.lastHiddenState(), ATOL, RTOL);
            assertClose(prefix + "hidden_states.npy", NDArrays.stack(out.hiddenStates()), ATOL, RTOL);
            assertClose(prefix + "penultimate_hidden_state.npy", out.hiddenStateFromEnd(2), ATOL, RTOL);
            if (g.exists(prefix + "penultimate_final_ln.npy")) {
                assertClose(prefix + "penultimate_final_ln.npy", encoder.finalLayerNorm(out.hiddenStateFromEnd(2)), ATOL, RTOL);
            }
            assertClose(prefix + "pooler_output.npy", out.pooled(), ATOL, RTOL);
            if (g.exists(prefix + "text_embeds.npy")) {
                assertClose(prefix + "text_embeds.npy", out.textEmbeds(), ATOL, RTOL);
            }
        }
    }

    /** Stacking for comparison with the fixtures' stacked layouts. */
    static final class NDArrays {
        static NDArray stack(List<NDArray> list) {
            return ai.djl.ndarray.NDArrays.stack(new ai.djl.ndarray.NDList(list.toArray(NDArray[]::new)), 0);
        }
    }
}
