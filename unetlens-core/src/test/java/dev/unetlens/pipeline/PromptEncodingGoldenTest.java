package dev.unetlens.pipeline;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.clip.ClipTextModel;
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
 * SDXL prompt encoding against {@code cases/<model>/prompt_encoding} (README §11): prompt embeds, pooled embeds,
 * the three negative-prompt rules, prompt_2, clip skip 1, and add_time_ids. Tolerance: text encoders,
 * atol 1e-5, rtol 1e-4 (README §9); time ids exactly.
 */
class PromptEncodingGoldenTest {
    static final double ATOL = 1e-5;
    static final double RTOL = 1e-4;
    private static final NDManager MANAGER = NDManager.newBaseManager();

    @AfterAll
    static void close() {
        MANAGER.close();
    }

    @TestFactory
    Stream<DynamicNode> promptEncoding() {
        Golden g = Golden.get();
        return g.modelsWith("prompt_encoding").stream().map(model -> {
            String dir = "cases/" + model + "/prompt_encoding/";
            JsonNode meta = g.json(dir + "meta.json");
            PromptEncoder enc = encoder(model);
            boolean forceZeros = g.json("models/" + model + "/model_index.json").path("force_zeros_for_empty_prompt").asBoolean(true);
            String prompt = meta.get("prompt").asText();
            List<DynamicNode> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest("prompt", () -> {
                Conditioning c = enc.encode(MANAGER, List.of(prompt), null, 0);
                assertClose(dir + "prompt_embeds.npy", c.promptEmbeds(), ATOL, RTOL);
                assertClose(dir + "pooled_prompt_embeds.npy", c.pooled(), ATOL, RTOL);
            }));
            tests.add(DynamicTest.dynamicTest("negatives", () -> {
                Conditioning pos = enc.encode(MANAGER, List.of(prompt), null, 0);
                check(dir + "negative_none", enc.negative(MANAGER, null, null, pos, forceZeros));
                check(dir + "negative_empty", enc.negative(MANAGER, List.of(""), null, pos, forceZeros));
                check(dir + "negative_text", enc.negative(MANAGER, List.of(meta.get("negative_text").asText()), null, pos, forceZeros));
            }));
            tests.add(DynamicTest.dynamicTest("prompt_2", () ->
                    check(dir + "prompt_2", enc.encode(MANAGER, List.of(prompt), List.of(meta.get("prompt_2_case").asText()), 0))));
            tests.add(DynamicTest.dynamicTest("clip skip 1", () ->
                    assertClose(dir + "clip_skip1_prompt_embeds.npy", enc.encode(MANAGER, List.of(prompt), null, 1).promptEmbeds(), ATOL, RTOL)));
            for (String which : List.of("default", "explicit")) {
                tests.add(DynamicTest.dynamicTest("add_time_ids " + which, () -> {
                    JsonNode t = meta.get("add_time_ids_" + which);
                    TimeIds ids = new TimeIds(t.get("original_size").get(0).asDouble(), t.get("original_size").get(1).asDouble(),
                            t.get("crops_coords_top_left").get(0).asDouble(), t.get("crops_coords_top_left").get(1).asDouble(),
                            t.get("target_size").get(0).asDouble(), t.get("target_size").get(1).asDouble());
                    float[] expected = g.npy(dir + "add_time_ids_" + which + ".npy").toFloats();
                    assertThat(ids.values()).containsExactly(expected);
                }));
            }
            tests.add(DynamicTest.dynamicTest("every prompt_encoding fixture used",
                    () -> assertThat(g.unread("prompt_encoding", model)).isEmpty()));
            return DynamicContainer.dynamicContainer(model, tests);
        });
    }

    private static void check(String prefix, Conditioning c) {
        assertClose(prefix + "_prompt_embeds.npy", c.promptEmbeds(), ATOL, RTOL);
        assertClose(prefix + "_pooled_prompt_embeds.npy", c.pooled(), ATOL, RTOL);
    }

    static PromptEncoder encoder(String model) {
        DiffusersFolder f = DiffusersFolder.open(Golden.get().path("models/" + model));
        List<PromptEncoder.TextStack> stacks = new ArrayList<>();
        for (String suffix : List.of("", "_2")) {
            if (!f.hasComponent("text_encoder" + suffix)) {
                continue;
            }
            try (TensorSource src = f.openWeights("text_encoder" + suffix, null)) {
                ClipTextModel m = ClipTextModel.load(src, ClipTextConfig.read(f.config("text_encoder" + suffix)), MANAGER);
                stacks.add(new PromptEncoder.TextStack(ClipTokenizer.load(f.component("tokenizer" + suffix)), m));
            }
        }
        return new PromptEncoder(stacks.size() == 2 ? ModelFamily.SDXL : ModelFamily.SD1, stacks);
    }

}
