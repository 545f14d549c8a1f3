package dev.unetlens.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.extract.TextEncoding;
import dev.unetlens.hook.Component;
import dev.unetlens.io.CacheDir;
import dev.unetlens.io.FileHashes;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.pipeline.PromptEncoder;
import dev.unetlens.pipeline.RunRecords;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.tokenizer.TokenizedPrompt;
import dev.unetlens.viz.text.TokenNorms;
import dev.unetlens.viz.text.TokenSimilarity;
import dev.unetlens.viz.text.TokenStates;
import dev.unetlens.hook.ModelHooks;
import dev.unetlens.hook.ModelScope;
import dev.unetlens.intervene.TextEdit;
import dev.unetlens.intervene.TextEdits;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

/**
 * {@code unetlens tokens}: a prompt through the text encoder(s), token by token — ids and their texts, padding,
 * attention mask, the end token the pooled output is taken from; with {@code --out}, the token embeddings, position
 * embeddings, their sum and every layer's states as arrays, and pictures of the tokens' norms per layer and of their
 * cosine similarity at one layer.
 */
@Command(name = "tokens", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Show a prompt's tokens and write each token's embeddings and states through the text encoder.",
        description = {"Show how a text encoder reads a prompt: the token ids and their texts, the padding, the attention",
            "mask and the end token whose final state is the pooled output. With --out, also write per token the token",
            "embedding, the position embedding, their sum (the encoder's input) and every layer's state (.npy, as",
            "transformers' hidden_states), and pictures: each token's norm per layer (grid and chart) and the cosine",
            "similarity between the tokens at --layer."})
public final class TokensCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    @Mixin
    ModelOptions model;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", required = true, description = "The prompt.")
    String prompt;

    @Option(names = "--component", paramLabel = "NAME",
            description = "text_encoder or text_encoder_2 (SDXL) (default: every text encoder of the model).")
    String component;

    @Option(names = "--layer", paramLabel = "K",
            description = "The state the similarity picture shows: 0 the input embeddings, K the output of layer K"
                    + " (default: the last layer).")
    Integer layer;

    @Option(names = "--positions", paramLabel = "WHICH", defaultValue = "prompt",
            description = "Tokens the pictures show: prompt (start through the end token) or all (the padding too)"
                    + " (default: ${DEFAULT-VALUE}).")
    String positions;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR", description = "Also write arrays, pictures and manifest.json into DIR.")
    Path out;

    @Option(names = "--force", description = "Replace the outputs of an earlier unetlens run in --out.")
    boolean force;

    @ArgGroup(validate = false, heading = "%nText edits%n", exclusive = false)
    TextEditOptions textEdits = new TextEditOptions();

    /** The text edits as the command line writes them, for the pictures' subtitles; empty without. */
    private String edited = "";

    @Override
    public Integer call() throws Exception {
        boolean allPositions = switch (positions.toLowerCase(Locale.ROOT)) {
            case "prompt" -> false;
            case "all" -> true;
            default -> throw new UnetlensException("--positions must be prompt or all, got '" + positions + "'");
        };
        List<TextEdit> edits = textEdits.parse();
        OutputDirectory dir = out == null ? null : OutputDirectory.open(out, "tokens", force);
        try (StableDiffusion sd = model.load(); NDManager m = sd.manager().newSubManager()) {
            TextEdits resolved = edits.isEmpty() ? TextEdits.none()
                    : TextEdits.resolve(sd.prompts(), sd.prompts().textsRead(List.of(prompt), null), edits);
            List<TextEncoding> encodings = new ArrayList<>();
            try (ModelScope scope = ModelScope.open(ModelHooks.of(sd))) {
                resolved.install(scope);                                    // before the captures: they see the edits
                for (Component c : components(sd)) {
                    PromptEncoder.TextStack stack = sd.prompts().stacks().get(c == Component.TEXT_ENCODER ? 0 : 1);
                    TextEncoding e = TextEncoding.of(c, stack, prompt, m);
                    checkLayer(e);
                    encodings.add(e);
                }
            }
            edited = String.join("; ", resolved.descriptions());
            if (!resolved.isEmpty() && !json) {
                System.out.println("text edits: " + edited);
            }
            ArrayNode described = JSON.createArrayNode();
            encodings.forEach(e -> described.add(describe(e, sd)));
            if (json) {
                System.out.println(JSON.writeValueAsString(described));
            } else {
                encodings.forEach(e -> printTable(e, sd));
            }
            if (dir != null) {
                ObjectNode mf = dir.manifest();
                mf.set("model", RunRecords.model(sd, new FileHashes(CacheDir.root())));
                mf.set("versions", RunRecords.versions());
                mf.put("prompt", prompt);
                mf.set("encoders", described);
                if (!resolved.isEmpty()) {
                    mf.set("text_edits", InterventionRecords.textEdits(resolved));
                }
                for (TextEncoding e : encodings) {
                    write(dir, e, allPositions);
                }
                dir.finish();
                System.out.println("wrote " + dir.dir());
            }
        }
        return 0;
    }

    private List<Component> components(StableDiffusion sd) {
        int n = sd.prompts().stacks().size();
        if (component == null) {
            return n == 1 ? List.of(Component.TEXT_ENCODER) : List.of(Component.TEXT_ENCODER, Component.TEXT_ENCODER_2);
        }
        Component c = Component.parse(component);
        if (!c.isText()) {
            throw new UnetlensException("--component of tokens is a text encoder: text_encoder"
                    + (n > 1 ? " or text_encoder_2" : " (this model has one)") + ", got " + c);
        }
        if (c == Component.TEXT_ENCODER_2 && n < 2) {
            throw new UnetlensException("this " + sd.family() + " model has one text encoder, text_encoder; text_encoder_2 is SDXL's second");
        }
        return List.of(c);
    }

    private void checkLayer(TextEncoding e) {
        int layers = e.layers().size();
        if (layer != null && (layer < 0 || layer > layers)) {
            throw new UnetlensException("--layer must be in [0, " + layers + "] (0: the input embeddings; " + e.component()
                    + " has " + layers + " layers), got " + layer);
        }
    }

    /** The state the similarity picture shows. */
    private int layerOf(TextEncoding e) {
        return layer == null ? e.layers().size() : layer;
    }

    private static String encoderName(TextEncoding e, StableDiffusion sd) {
        var config = sd.prompts().stacks().get(e.component() == Component.TEXT_ENCODER ? 0 : 1).encoder();
        return e.component() + " (" + config.typeName() + ", " + e.layers().size() + " layers, width " + e.width() + ")";
    }

    private void printTable(TextEncoding e, StableDiffusion sd) {
        TokenizedPrompt p = e.prompt();
        long[] ids = p.inputIds();
        long[] mask = p.attentionMask();
        System.out.printf("%s · \"%s\" · %d of %d tokens, padded with %s (id %d)%n", encoderName(e, sd), prompt,
                p.length(), ids.length, padText(e, sd), e.padId());
        System.out.printf("%6s  %6s  %-24s  %s%n", "pos", "id", "token", "mask");
        for (int i = 0; i < p.length(); i++) {
            System.out.printf("%6d  %6d  %-24s  %d%s%n", i, ids[i], p.tokenTexts().get(i), mask[i],
                    i == e.pooledPosition() ? "   ← pooled output taken here" : "");
        }
        if (p.length() < ids.length) {
            System.out.printf("%6s  %6d  %-24s  %d%s%n", p.length() + "–" + (ids.length - 1), e.padId(),
                    "(padding ×" + (ids.length - p.length()) + ")", mask[p.length()],
                    e.pooledPosition() >= p.length() ? "   ← pooled output taken at " + e.pooledPosition() : "");
        }
        System.out.println();
    }

    private static String padText(TextEncoding e, StableDiffusion sd) {
        return sd.prompts().stacks().get(e.component() == Component.TEXT_ENCODER ? 0 : 1).tokenizer().tokenText(e.padId());
    }

    private ObjectNode describe(TextEncoding e, StableDiffusion sd) {
        TokenizedPrompt p = e.prompt();
        ObjectNode n = JSON.createObjectNode();
        n.put("component", e.component().cliName());
        n.put("encoder", encoderName(e, sd));
        n.put("prompt", prompt);
        n.put("tokens", p.inputIds().length);
        n.put("length", p.length());
        n.put("pad_id", e.padId());
        n.put("pad_token", padText(e, sd));
        n.put("pooled_position", e.pooledPosition());
        n.put("truncated", !sd.prompts().truncated(List.of(prompt)).isEmpty() && e.component() == Component.TEXT_ENCODER);
        ArrayNode ids = n.putArray("input_ids");
        for (long id : p.inputIds()) {
            ids.add(id);
        }
        ArrayNode mask = n.putArray("attention_mask");
        for (long v : p.attentionMask()) {
            mask.add(v);
        }
        ArrayNode texts = n.putArray("token_texts");
        p.tokenTexts().forEach(texts::add);
        n.put("width", e.width());
        n.put("layers", e.layers().size());
        return n;
    }

    /** The arrays and pictures of one encoder, under its folder. */
    private void write(OutputDirectory dir, TextEncoding e, boolean allPositions) {
        String f = e.component() + "/";
        int t = e.tokens();
        int d = e.width();
        long[] one = {1, t, d};
        npy(dir, f + "token_embeddings.npy", one, e.tokenEmbeddings(), "token embeddings [1, T, D]: rows of token_embedding by id");
        npy(dir, f + "position_embeddings.npy", one, e.positionEmbeddings(), "position embeddings [1, T, D]: rows 0…T−1 of position_embedding");
        npy(dir, f + "input_embeddings.npy", one, e.inputEmbeddings(), "their sum [1, T, D]: the encoder's input, hidden_states[0]");
        List<float[]> states = e.hiddenStates();
        float[] all = new float[states.size() * t * d];
        for (int l = 0; l < states.size(); l++) {
            System.arraycopy(states.get(l), 0, all, l * t * d, t * d);
        }
        npy(dir, f + "hidden_states.npy", new long[] {states.size(), 1, t, d}, all,
                "hidden_states [L+1, 1, T, D]: [0] the input embeddings, [i] layer i's output (no final LayerNorm)");
        npy(dir, f + "last_hidden_state.npy", one, e.lastHiddenState(), "last_hidden_state [1, T, D]: after the final LayerNorm");
        npy(dir, f + "pooled.npy", new long[] {1, d}, e.pooled(), "pooled output [1, D]: last_hidden_state at position "
                + e.pooledPosition());
        if (e.textEmbeds() != null) {
            npy(dir, f + "text_embeds.npy", new long[] {1, e.textEmbeds().length}, e.textEmbeds(), "text_projection(pooled) [1, P]");
        }
        List<String> names = new ArrayList<>(List.of("embeddings"));
        IntStream.rangeClosed(1, e.layers().size()).forEach(i -> names.add("layer " + i));
        TokenStates s = new TokenStates(e.prompt().tokenTexts(), names, states.toArray(float[][]::new), d);
        List<Integer> shown = allPositions ? IntStream.range(0, t).boxed().toList() : s.promptIndices();
        String title = e.component().cliName() + (edited.isEmpty() ? "" : " (text edits)");
        String context = "\"" + prompt + "\"" + (edited.isEmpty() ? "" : " · " + edited);
        TokenNorms.grid(s, shown, title, context).write(dir, f + "token-norms.png");
        TokenNorms.lines(s, shown, title).write(dir, f + "token-norms-chart");
        int k = layerOf(e);
        TokenSimilarity.render(s, k, shown, title, context).write(dir, f + "token-similarity-" + (k == 0 ? "embeddings" : "layer-" + k) + ".png");
    }

    private static void npy(OutputDirectory dir, String name, long[] shape, float[] values, String description) {
        NpyArray a = NpyArray.ofFloats(shape, values);
        ObjectNode entry = dir.write(name, o -> o.write(Npy.toBytes(a)), description);
        ArrayNode s = entry.putArray("shape");
        for (long v : shape) {
            s.add(v);
        }
        dir.saveManifest();
    }
}
