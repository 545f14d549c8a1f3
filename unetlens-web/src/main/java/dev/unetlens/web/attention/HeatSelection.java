package dev.unetlens.web.attention;

import dev.unetlens.viz.attention.DaamAccumulator;
import dev.unetlens.viz.attention.HeatMaps;
import dev.unetlens.viz.attention.Tokens;
import dev.unetlens.web.ApiError;
import dev.unetlens.web.Params;
import io.javalin.http.Context;

import java.util.ArrayList;
import java.util.List;

/**
 * Which cross-attention maps a DAAM heat map averages, from a request: {@code modules} (comma-separated; default
 * DAAM's choice, {@link DaamAccumulator.Selection#daam}, or every cross-attention dumped when it picks none),
 * {@code heads} and {@code steps} (numbers and ranges like {@code 0-3,7}; default all), {@code normalize} (over the
 * content tokens, DAAM's {@code normalize=True}; default true, as {@code demo}'s pictures) and {@code row} (the
 * prompt's batch row).
 *
 * @param modules   the modules, in dump order
 * @param heads     the heads (empty: all)
 * @param steps     the steps (empty: all dumped)
 * @param normalize whether each position is divided by the content tokens' sum
 * @param row       the batch row
 */
record HeatSelection(List<String> modules, List<Integer> heads, List<Integer> steps, boolean normalize, int row) {

    static HeatSelection of(Context ctx, AttentionDump dump) {
        List<AttentionDump.Module> cross = dump.list().stream().filter(AttentionDump.Module::cross).toList();
        if (cross.isEmpty()) {
            throw ApiError.notFound("this run has no cross-attention probabilities (…attn2:probs) for word heat maps");
        }
        List<String> modules = new ArrayList<>();
        String given = Params.text(ctx, "modules", null);
        if (given != null) {
            for (String name : given.split(",")) {
                modules.add(dump.module("modules", name.strip(), true).name());
            }
        } else {
            modules.addAll(daamDefault(cross, dump.latent()));
        }
        int heads = cross.stream().filter(m -> modules.contains(m.name())).mapToInt(AttentionDump.Module::heads)
                .min().orElse(1);
        int rows = cross.getFirst().rows();
        return new HeatSelection(List.copyOf(modules), Params.integers(ctx, "heads", 0, heads - 1),
                Params.integers(ctx, "steps", 1, 1_000_000), !Params.choice(ctx, "normalize", "true", "true", "false")
                .equals("false"), Params.integer(ctx, "row", 0, rows - 1, 0));
    }

    /** The modules DAAM would take; all when it takes none of these. */
    static List<String> daamDefault(List<AttentionDump.Module> cross, int[] latent) {
        var daam = DaamAccumulator.Selection.daam().blocks();
        List<String> out = cross.stream().filter(m -> daam.test(new DaamAccumulator.Block(m.name(), m.height(),
                m.width(), latent[0], latent[1]))).map(AttentionDump.Module::name).toList();
        return out.isEmpty() ? cross.stream().map(AttentionDump.Module::name).toList() : out;
    }

    /** The heat maps of the row's prompt tokens (start through end) over the selected maps. */
    HeatMaps compute(AttentionDump dump) {
        int tokens = Tokens.promptLength(dump.tokenLabels(row, dump.module("modules", modules.getFirst(), true).keys()));
        DaamAccumulator acc = new DaamAccumulator(dump.latent()[0], dump.latent()[1], tokens);
        int added = 0;
        for (String name : modules) {
            AttentionDump.Module m = dump.module("modules", name, true);
            for (int step : m.steps()) {
                if (steps.isEmpty() || steps.contains(step)) {
                    acc.add(dump.label(m, step), dump.probs(m, step, row), 0);
                    added++;
                }
            }
        }
        if (added == 0) {
            throw ApiError.badParameter("steps", "none of steps " + steps + " was dumped for " + modules);
        }
        DaamAccumulator.Selection s = DaamAccumulator.Selection.all();
        if (!heads.isEmpty()) {
            s = s.heads(heads.stream().mapToInt(Integer::intValue).toArray());
        }
        return acc.compute(s, tokens, normalize);
    }
}
