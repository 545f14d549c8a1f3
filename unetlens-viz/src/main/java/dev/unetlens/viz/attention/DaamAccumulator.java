package dev.unetlens.viz.attention;

import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Resample;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.IntPredicate;
import java.util.function.Predicate;

/**
 * DAAM's heat-map aggregation (Tang et al. 2023, {@code castorini/daam} {@code trace.py}): cross-attention maps
 * are collected as a run goes, then every map is upsampled to the latent size, clamped at 0 and averaged.
 *
 * <p>Notation: module m, head n, step τ, token s; A_{m,n,τ}[s] the block's h×w map probs[row, n, :, s];
 * up(·) bicubic resizing to the latent H×W ({@link Resample#bicubic}); K the prompt length (start and end
 * included).
 * <ol>
 *   <li>{@link #add}: per (m, n), the maps of the chosen batch row are summed over steps and counted —
 *       DAAM's {@code RawHeatMapCollection.update}.</li>
 *   <li>{@link #compute}: per selected (m, n), the step mean Ā_{m,n}[s] = Σ_τ A_{m,n,τ}[s] / count;
 *       M[s] = mean over selected (m, n) of max(up(Ā_{m,n}[s]), 0) — DAAM's {@code compute_global_heat_map}
 *       ({@code F.interpolate(…, mode='bicubic').clamp_(min=0)}, then {@code mean(0)}); tokens kept: s &lt; K.</li>
 *   <li>Optionally, normalisation over tokens: M[s] ← M[s] / (Σ_{s'=1}^{K−2} M[s'] + 10⁻⁶), the sum over the
 *       content tokens only (start and end dropped), as DAAM's {@code normalize=True}.</li>
 * </ol>
 * Where this differs from DAAM: DAAM sums over steps where we average, so its maps are ours times the number of
 * steps (an equal factor for every (m, n), which clamping at 0 and the mean keep; normalisation and DAAM's own
 * min–max display remove it). DAAM upsamples to a fixed 64×64 (96×96 for SD 2 at 768 px) even for SDXL; we use
 * the latent size given. DAAM takes the second half of the batch (the conditional rows of a single prompt); the
 * caller names the row ({@link AttentionProbs#firstConditionalRow()}). Which modules DAAM uses by default is
 * {@link Selection#daam}.
 */
public final class DaamAccumulator {
    private final int latentHeight;
    private final int latentWidth;
    private final int tokens;
    private final IntPredicate steps;
    private final Map<String, Module> modules = new LinkedHashMap<>();

    /** Sums per module: [N][K·h·w] over the steps seen. */
    private static final class Module {
        final int heads;
        final int height;
        final int width;
        final double[][] sum;
        final TreeSet<Integer> steps = new TreeSet<>();
        int count;

        Module(int heads, int height, int width, int tokens) {
            this.heads = heads;
            this.height = height;
            this.width = width;
            this.sum = new double[heads][tokens * height * width];
        }
    }

    /**
     * Collects the first {@code tokens} keys of every map (77 for all; the prompt length to save memory) at the
     * steps {@code steps} accepts (steps are chosen up front, as DAAM sums over time as it goes).
     */
    public DaamAccumulator(int latentHeight, int latentWidth, int tokens, IntPredicate steps) {
        if (latentHeight <= 0 || latentWidth <= 0 || tokens <= 0) {
            throw new IllegalArgumentException("latent size and token count must be positive, got "
                    + latentHeight + "×" + latentWidth + " and " + tokens);
        }
        this.latentHeight = latentHeight;
        this.latentWidth = latentWidth;
        this.tokens = tokens;
        this.steps = steps;
    }

    /** Every step. */
    public DaamAccumulator(int latentHeight, int latentWidth, int tokens) {
        this(latentHeight, latentWidth, tokens, s -> true);
    }

    /** Which (module, head) maps {@link #compute} averages. */
    public record Selection(Predicate<Block> blocks, IntPredicate heads, String description) {
        /** Every module and head collected. */
        public static Selection all() {
            return new Selection(b -> true, h -> true, "all modules and heads");
        }

        /**
         * DAAM's default: the cross-attentions of the down and up blocks (its {@code UNetCrossAttentionLocator}
         * leaves the mid block out), without maps at 1/8 of the latent side (its hooker skips "factor 8":
         * {@code int(sqrt(latent_hw // T)) == 8}).
         */
        public static Selection daam() {
            return new Selection(b -> (b.module().startsWith("down_blocks") || b.module().startsWith("up_blocks"))
                    && (int) Math.sqrt((double) ((long) b.latentHeight() * b.latentWidth()
                    / ((long) b.height() * b.width()))) != 8, h -> true, "DAAM's default (down and up blocks)");
        }

        /** Exactly these modules, all heads. */
        public static Selection modules(List<String> names) {
            List<String> copy = List.copyOf(names);
            return new Selection(b -> copy.contains(b.module()), h -> true, String.join(", ", copy));
        }

        /** The same blocks, only these heads. */
        public Selection heads(int... chosen) {
            int[] c = chosen.clone();
            return new Selection(blocks, h -> java.util.Arrays.stream(c).anyMatch(x -> x == h),
                    description + ", heads " + java.util.Arrays.toString(c));
        }
    }

    /** A module as a selection sees it: its name and map size, and the latent size. */
    public record Block(String module, int height, int width, int latentHeight, int latentWidth) {
    }

    /**
     * Adds one module's maps at one step (label.step(); unknown steps are always taken), from batch row {@code row}
     * (the conditional row: {@link AttentionProbs#firstConditionalRow()}).
     */
    public void add(MapLabel label, AttentionProbs probs, int row) {
        if (label.step() >= 0 && !steps.test(label.step())) {
            return;
        }
        if (probs.keys() < tokens) {
            throw new IllegalArgumentException(label.module() + ": " + probs.keys() + " keys, but " + tokens
                    + " tokens are collected; is this a self-attention?");
        }
        if (row < 0 || row >= probs.batch()) {
            throw new IllegalArgumentException("batch row must be in [0, " + (probs.batch() - 1) + "], got " + row);
        }
        Module m = modules.computeIfAbsent(label.module(),
                k -> new Module(probs.heads(), probs.height(), probs.width(), tokens));
        if (m.heads != probs.heads() || m.height != probs.height() || m.width != probs.width()) {
            throw new IllegalArgumentException(label.module() + ": maps of " + probs.heads() + " heads on "
                    + probs.height() + "×" + probs.width() + " after " + m.heads + " heads on " + m.height + "×"
                    + m.width);
        }
        float[] v = probs.values();
        int t = probs.queries();
        int s = probs.keys();
        for (int n = 0; n < m.heads; n++) {
            double[] sum = m.sum[n];
            int base = (row * probs.heads() + n) * t * s;
            for (int q = 0; q < t; q++) {
                int qb = base + q * s;
                for (int k = 0; k < tokens; k++) {
                    sum[k * t + q] += v[qb + k];
                }
            }
        }
        m.count++;
        if (label.step() >= 0) {
            m.steps.add(label.step());
        }
    }

    /** The modules collected so far, in order of first appearance. */
    public List<String> modules() {
        return List.copyOf(modules.keySet());
    }

    /**
     * The heat maps of the first {@code promptLength} tokens (≤ the tokens collected) over the selected maps,
     * normalised over the content tokens if {@code normalize}.
     */
    public HeatMaps compute(Selection selection, int promptLength, boolean normalize) {
        if (promptLength < 1 || promptLength > tokens) {
            throw new IllegalArgumentException("prompt length must be in [1, " + tokens + "], got " + promptLength);
        }
        int lhw = latentHeight * latentWidth;
        double[] acc = new double[promptLength * lhw];
        int used = 0;
        List<String> usedModules = new ArrayList<>();
        TreeSet<Integer> usedHeads = new TreeSet<>();
        TreeSet<Integer> usedSteps = new TreeSet<>();
        for (Map.Entry<String, Module> e : modules.entrySet()) {
            Module m = e.getValue();
            if (m.count == 0 || !selection.blocks().test(
                    new Block(e.getKey(), m.height, m.width, latentHeight, latentWidth))) {
                continue;
            }
            boolean any = false;
            int hw = m.height * m.width;
            for (int n = 0; n < m.heads; n++) {
                if (!selection.heads().test(n)) {
                    continue;
                }
                any = true;
                usedHeads.add(n);
                for (int k = 0; k < promptLength; k++) {
                    float[] mean = new float[hw];
                    for (int p = 0; p < hw; p++) {
                        mean[p] = (float) (m.sum[n][k * hw + p] / m.count);
                    }
                    float[] up = Resample.bicubic(mean, m.height, m.width, latentHeight, latentWidth);
                    int base = k * lhw;
                    for (int p = 0; p < lhw; p++) {
                        acc[base + p] += Math.max(up[p], 0f);   // "the clamping fixes undershoot"
                    }
                }
                used++;
            }
            if (any) {
                usedModules.add(e.getKey());
                usedSteps.addAll(m.steps);
            }
        }
        if (used == 0) {
            throw new IllegalArgumentException("no cross-attention maps match " + selection.description()
                    + "; collected: " + (modules.isEmpty() ? "none" : String.join(", ", modules.keySet())));
        }
        float[] out = new float[acc.length];
        for (int i = 0; i < acc.length; i++) {
            out[i] = (float) (acc[i] / used);
        }
        if (normalize) {
            for (int p = 0; p < lhw; p++) {
                double content = 0;
                for (int k = 1; k < promptLength - 1; k++) {
                    content += out[k * lhw + p];
                }
                double d = content + 1e-6;
                for (int k = 0; k < promptLength; k++) {
                    out[k * lhw + p] = (float) (out[k * lhw + p] / d);
                }
            }
        }
        Map<String, Object> sources = new LinkedHashMap<>();
        sources.put("modules", List.copyOf(usedModules));
        sources.put("heads", List.copyOf(usedHeads));
        sources.put("steps", List.copyOf(usedSteps));
        sources.put("maps", used);
        sources.put("selection", selection.description());
        return new HeatMaps(out, promptLength, latentHeight, latentWidth, normalize, sources);
    }
}
