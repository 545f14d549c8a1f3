package dev.unetlens.intervene;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import dev.unetlens.hook.BlockNames;
import dev.unetlens.hook.HookContext;
import dev.unetlens.hook.HookScope;
import dev.unetlens.model.ForwardContext.Branch;
import dev.unetlens.model.ForwardContext.RowLabel;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.PromptEncoder;
import dev.unetlens.pipeline.StableDiffusion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Per-block prompts for one request: each WebUI block's cross-attention reads the text encoding of its own expansion
 * of the prompt ({@link LayerPrompt}), on both sides of classifier-free guidance (negative prompts may use the
 * syntax too).
 *
 * <p>How: the pipeline runs the {@linkplain #plainRequest() plain request} (every group removed), and a hook on each
 * {@code …attn2:context} of a block whose text differs replaces that block's context rows: a row of CFG branch β and
 * prompt p gets the encoding of the block's expansion of prompt p's β side, computed once per distinct text. Rows
 * whose expansion tokenizes like the plain text keep the pipeline's own rows, bit for bit; blocks where every row
 * does get no hook at all. Blocks without cross-attention ({@link CrossAttentionBlocks}: IN00, resnet-only levels,
 * downsamplers) read no text, so their prompt has no effect; {@link #blocks()} says so for the manifest. SDXL's
 * pooled text embeds and time ids are not per block: they stay the plain prompt's. Clip skip applies to the positive
 * side only, as in the pipeline.
 *
 * <p>Holds the encodings in native memory: close it after the run.
 */
public final class LayerPrompts implements AutoCloseable {
    private final GenerationRequest request;
    private final GenerationRequest plain;
    private final Map<String, List<String>> attention;        // block → attn2 paths
    private final Map<String, Map<Row, Text>> changed;         // block → its texts where they differ from the plain ones
    private final List<Block> report;
    private final PromptEncoder encoder;
    private final NDManager manager;
    private final Map<Text, NDArray> encodings = new HashMap<>();

    /** One side of one prompt of the batch. */
    private record Row(Branch branch, int prompt) {
    }

    /** What an encoder call reads: the text (and SDXL's second-encoder text, or null) and the clip skip. */
    private record Text(String text, String text2, int clipSkip) {
    }

    /**
     * One block's texts for the manifest.
     *
     * @param block           WebUI name
     * @param module          the diffusers module of the block's output
     * @param crossAttention  the {@code attn2} modules that read the block's text (empty: the text has no effect)
     * @param prompts         the block's positive text per prompt
     * @param negativePrompts the block's negative text per prompt, or null when the request has none
     * @param changed         whether any of its texts differ from the plain prompt's (by tokens)
     * @param named           whether a spec names it explicitly (not through {@code _})
     */
    public record Block(String block, String module, List<String> crossAttention, List<String> prompts,
                        List<String> negativePrompts, boolean changed, boolean named) {
        /** Whether its text reaches the model (it has cross-attention). */
        public boolean readsText() {
            return !crossAttention.isEmpty();
        }
    }

    private LayerPrompts(GenerationRequest request, GenerationRequest plain, Map<String, List<String>> attention,
                         Map<String, Map<Row, Text>> changed, List<Block> report, PromptEncoder encoder, NDManager manager) {
        this.request = request;
        this.plain = plain;
        this.attention = attention;
        this.changed = changed;
        this.report = report;
        this.encoder = encoder;
        this.manager = manager;
    }

    /** Whether any prompt of the request uses layer-prompt syntax. */
    public static boolean uses(GenerationRequest r) {
        return anyUses(r.prompts()) || anyUses(r.negativePrompts()) || anyUses(r.prompts2()) || anyUses(r.negativePrompts2());
    }

    private static boolean anyUses(List<String> texts) {
        return texts != null && texts.stream().anyMatch(LayerPrompt::uses);
    }

    /**
     * Parses the request's prompts for {@code sd}'s U-Net and encodes every distinct block text that differs from the
     * plain one. Fails with a {@link LayerPromptException} on malformed syntax, before anything runs.
     */
    public static LayerPrompts of(StableDiffusion sd, GenerationRequest r) {
        BlockNames names = BlockNames.of(sd.unet().config());
        List<LayerPrompt> pos = parse(r.prompts(), names);
        List<LayerPrompt> neg = parse(r.negativePrompts(), names);
        List<LayerPrompt> pos2 = parse(r.prompts2(), names);
        List<LayerPrompt> neg2 = parse(r.negativePrompts2(), names);
        GenerationRequest plain = r.toBuilder().prompts(plainOf(pos)).negativePrompts(plainOf(neg))
                .prompts2(plainOf(pos2)).negativePrompts2(plainOf(neg2)).build();
        Map<String, List<String>> attention = CrossAttentionBlocks.of(sd.unet());
        PromptEncoder encoder = sd.prompts();
        Map<String, Map<Row, Text>> changed = new LinkedHashMap<>();
        List<Block> report = new ArrayList<>();
        for (String block : names.names()) {
            Map<Row, Text> differs = new LinkedHashMap<>();
            List<String> posTexts = new ArrayList<>();
            List<String> negTexts = neg == null ? null : new ArrayList<>();
            for (int p = 0; p < pos.size(); p++) {
                Text t = text(pos, pos2, p, block, r.clipSkip());
                posTexts.add(t.text());
                if (!sameTokens(encoder, t, text(pos, pos2, p, null, r.clipSkip()))) {
                    differs.put(new Row(Branch.COND, p), t);
                }
                if (neg != null) {
                    Text n = text(neg, neg2, p, block, 0);     // diffusers applies no clip skip to the negative side
                    negTexts.add(n.text());
                    if (r.cfg() && !sameTokens(encoder, n, text(neg, neg2, p, null, 0))) {
                        differs.put(new Row(Branch.UNCOND, p), n);
                    }
                }
            }
            boolean hasText = !attention.get(block).isEmpty();
            if (!differs.isEmpty() && hasText) {
                changed.put(block, differs);
            }
            boolean named = named(pos, block) || named(neg, block) || named(pos2, block) || named(neg2, block);
            report.add(new Block(block, names.module(block).orElseThrow(), attention.get(block), posTexts, negTexts,
                    !differs.isEmpty(), named));
        }
        NDManager manager = sd.manager().newSubManager();
        LayerPrompts lp = new LayerPrompts(r, plain, attention, changed, List.copyOf(report), encoder, manager);
        try {
            changed.values().forEach(m -> m.values().forEach(lp::encoding));
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        return lp;
    }

    private static List<LayerPrompt> parse(List<String> prompts, BlockNames names) {
        if (prompts == null) {
            return null;
        }
        List<LayerPrompt> out = new ArrayList<>();
        for (String p : prompts) {
            out.add(p == null ? null : LayerPrompt.parse(p, names));
        }
        return out;
    }

    private static boolean named(List<LayerPrompt> prompts, String block) {
        return prompts != null && prompts.stream().anyMatch(p -> p != null && p.named().contains(block));
    }

    private static List<String> plainOf(List<LayerPrompt> prompts) {
        return prompts == null ? null : prompts.stream().map(p -> p == null ? null : p.plain()).toList();
    }

    /** The text block {@code block} (null: the plain text) reads for prompt p, with its second-encoder text. */
    private static Text text(List<LayerPrompt> first, List<LayerPrompt> second, int p, String block, int clipSkip) {
        LayerPrompt a = first.get(p);
        LayerPrompt b = second == null ? null : second.get(p);
        return new Text(block == null ? a.plain() : a.text(block),
                b == null ? null : block == null ? b.plain() : b.text(block), clipSkip);
    }

    /** Whether two texts encode alike: the same token ids (CLIP collapses spaces) for both encoders' texts. */
    private static boolean sameTokens(PromptEncoder enc, Text a, Text b) {
        return ids(enc, a.text()).equals(ids(enc, b.text())) && (Objects.equals(a.text2(), b.text2())
                || a.text2() != null && b.text2() != null && ids(enc, a.text2()).equals(ids(enc, b.text2())));
    }

    private static List<Long> ids(PromptEncoder enc, String text) {
        return Arrays.stream(enc.tokens(text).inputIds()).boxed().toList();
    }

    /** The [1, S, Dc] encoding of one text, computed once. */
    private NDArray encoding(Text t) {
        NDArray e = encodings.get(t);
        if (e == null) {
            try (ForwardScope scope = new ForwardScope()) {
                List<String> second = t.text2() == null ? null : List.of(t.text2());
                e = scope.keep(encoder.encode(manager, List.of(t.text()), second, t.clipSkip()).promptEmbeds());
            }
            ForwardScope.detach(e);
            encodings.put(t, e);
        }
        return e;
    }

    /** The distinct texts encoded for blocks (each once). */
    List<String> encodedTexts() {
        return encodings.keySet().stream().map(Text::text).toList();
    }

    /** Whether any block reads a text other than the plain prompt's (false: the run equals the plain request's). */
    public boolean active() {
        return !changed.isEmpty();
    }

    /** The request as given, layer syntax included (for the manifest). */
    public GenerationRequest request() {
        return request;
    }

    /** The request to run: every prompt with its groups removed. */
    public GenerationRequest plainRequest() {
        return plain;
    }

    /** Every block's texts, in block order. */
    public List<Block> blocks() {
        return report;
    }

    /** Blocks a spec names explicitly that read no text (no cross-attention): their prompt has no effect. */
    public List<String> ineffective() {
        return report.stream().filter(b -> b.named() && !b.readsText()).map(Block::block).toList();
    }

    /** Installs the context replacements on {@code scope} (a scope of the U-Net's hook table). */
    public void install(HookScope scope) {
        changed.forEach((block, rows) -> {
            ContextHook hook = new ContextHook(rows);
            for (String attn2 : attention.get(block)) {
                scope.add(attn2 + ":context", hook::apply);
            }
        });
    }

    /**
     * Replaces the rows of one block's context, [B, S, Dc]. The context the pipeline passes is one array for the whole
     * run, so the block's version is built once per incoming array and kept.
     */
    private final class ContextHook {
        private final Map<Row, Text> rows;
        private NDArray seen;
        private List<RowLabel> seenRows;
        private NDArray built;

        ContextHook(Map<Row, Text> rows) {
            this.rows = rows;
        }

        synchronized NDArray apply(NDArray value, HookContext ctx) {
            if (value == seen && ctx.rows().equals(seenRows)) {
                return built;
            }
            List<RowLabel> labels = ctx.rows();
            if (labels.size() != value.getShape().get(0)) {
                throw new IllegalStateException("context has " + value.getShape().get(0) + " rows but the run labels "
                        + labels.size() + "; per-block prompts need the pipeline's row labels");
            }
            NDList parts = new NDList();
            for (int r = 0; r < labels.size(); r++) {
                Text t = rows.get(new Row(labels.get(r).branch(), labels.get(r).prompt()));
                parts.add(t == null ? value.get(r + ":" + (r + 1)) : encoding(t));
            }
            NDArray out = ForwardScope.detach(NDArrays.concat(parts, 0));          // [B, S, Dc]
            out.attach(manager);
            if (built != null) {
                built.close();
            }
            seen = value;
            seenRows = List.copyOf(labels);
            built = out;
            return out;
        }
    }

    @Override
    public void close() {
        manager.close();
        encodings.clear();
    }
}
