package dev.unetlens.extract;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.Component;
import dev.unetlens.hook.HookScope;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.clip.ClipTextOutput;
import dev.unetlens.pipeline.PromptEncoder;
import dev.unetlens.tokenizer.ClipTokenizer;
import dev.unetlens.tokenizer.TokenizedPrompt;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One prompt through one text encoder, token by token, the way the deep dive takes it apart ("tokens → token
 * embeddings + position embeddings → text encoder output"): the token ids and their texts, the padding and the
 * attention mask, the position the pooled output is taken from, and per token the token embedding, the position
 * embedding, their sum (the encoder's input) and every layer's state — all captured at the encoder's hook points
 * ({@code text_model.embeddings.token_embedding}, {@code …position_embedding}, {@code text_model.embeddings},
 * {@code text_model.encoder.layers.i}, {@code text_model.final_layer_norm}) while it encodes the prompt as the
 * pipelines do (no attention mask passed: padding positions are computed like any other).
 *
 * <p>Shapes: T tokens (77), D the encoder's width, L layers, P the projection's width.
 *
 * @param component          which encoder
 * @param prompt             the tokenized prompt (ids, texts, mask, length before padding)
 * @param padId              the id the tokenizer pads with
 * @param pooledPosition     the position of the end token whose final state is the pooled output
 * @param tokenEmbeddings    [T, D] rows of the token embedding table
 * @param positionEmbeddings [T, D] rows of the position embedding table (0 … T−1)
 * @param inputEmbeddings    [T, D] their sum: {@code hidden_states[0]}
 * @param layers             L arrays [T, D]: layer i's output, {@code hidden_states[i + 1]}
 * @param lastHiddenState    [T, D] the last layer's output after the final LayerNorm
 * @param pooled             [D] {@code lastHiddenState} at {@code pooledPosition}
 * @param textEmbeds         [P] {@code text_projection(pooled)}, or null without a projection
 */
public record TextEncoding(Component component, TokenizedPrompt prompt, long padId, int pooledPosition,
                           float[] tokenEmbeddings, float[] positionEmbeddings, float[] inputEmbeddings,
                           List<float[]> layers, float[] lastHiddenState, float[] pooled, float[] textEmbeds) {

    private static final String TOKEN = "text_model.embeddings.token_embedding";
    private static final String POSITION = "text_model.embeddings.position_embedding";
    private static final String EMBEDDINGS = "text_model.embeddings";
    private static final String FINAL = "text_model.final_layer_norm";

    public TextEncoding {
        layers = List.copyOf(layers);
    }

    /** T. */
    public int tokens() {
        return prompt.inputIds().length;
    }

    /** D. */
    public int width() {
        return pooled.length;
    }

    /** {@code hidden_states}: the input embeddings, then each layer's output (L + 1 arrays [T, D]). */
    public List<float[]> hiddenStates() {
        List<float[]> out = new ArrayList<>(List.of(inputEmbeddings));
        out.addAll(layers);
        return out;
    }

    /** Encodes {@code text} with a stack's tokenizer and encoder. */
    public static TextEncoding of(Component component, PromptEncoder.TextStack stack, String text, NDManager m) {
        return of(component, stack.tokenizer(), stack.encoder(), stack.tokenizer().encode(text), m);
    }

    /** Encodes ids the tokenizer made (or any ids of its vocabulary: {@code prompt.inputIds()}). */
    public static TextEncoding of(Component component, ClipTokenizer tokenizer, ClipTextModel encoder,
                                  TokenizedPrompt prompt, NDManager m) {
        long[] ids = prompt.inputIds();
        int layers = encoder.config().layers();
        List<String> points = new ArrayList<>(List.of(TOKEN, POSITION, EMBEDDINGS, FINAL));
        for (int i = 0; i < layers; i++) {
            points.add(ClipTextModel.layer(i));
        }
        Map<String, float[]> got = new HashMap<>();
        float[] pooled;
        float[] embeds;
        try (HookScope scope = HookScope.open(encoder.hooks()); ForwardScope f = new ForwardScope()) {
            scope.capture(points, Capture.Rows.ALL, c -> got.put(c.point(), c.value().toFloatArray()));
            ClipTextOutput out = encoder.forward(m.create(ids, new Shape(1, ids.length)));
            pooled = out.pooled().toFloatArray();
            embeds = out.textEmbeds() == null ? null : out.textEmbeds().toFloatArray();
        }
        List<float[]> states = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            states.add(got.get(ClipTextModel.layer(i)));
        }
        return new TextEncoding(component, prompt, tokenizer.padId(), encoder.pooledPosition(ids), got.get(TOKEN),
                got.get(POSITION), got.get(EMBEDDINGS), states, got.get(FINAL), pooled, embeds);
    }

    /** The array of one state as [1, T, D] in an NDArray of {@code m} (for saving). */
    public NDArray array(NDManager m, float[] state) {
        return m.create(state, new Shape(1, tokens(), width()));
    }
}
