package dev.unetlens.cli;

import dev.unetlens.UnetlensException;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.StepSelection;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/** What {@code diff} and {@code sweep} capture on both runs: points, steps, rows; and the baseline's prompt. */
public final class DiffOptions {
    @Option(names = "--at", paramLabel = "MODULES",
            description = "Modules whose differences to write: IN00-OUT11(+2), mid_block, …attn2:probs (default: diff every"
                    + " block, sweep the swept block).")
    String at;

    @Option(names = "--at-steps", paramLabel = "STEPS",
            description = "Steps (from 1) at which to write them, like 1,5-20(+5) (default: diff the first, middle and last,"
                    + " sweep the last).")
    String atSteps;

    @Option(names = "--rows", paramLabel = "ROWS", defaultValue = "cond",
            description = "CFG rows to compare: cond, uncond or all (default: ${DEFAULT-VALUE}).")
    String rows;

    @Option(names = "--baseline-prompt", paramLabel = "TEXT",
            description = "The run to compare with (default: the prompt with its (~: … :~) groups removed).")
    String baselinePrompt;

    /** 0-based steps of a run of {@code stepCount} selected by {@code --at-steps}, or by {@code fallback} (from 1) without it. */
    Set<Integer> steps(int stepCount, String fallback) {
        Set<Integer> out = new TreeSet<>();
        for (int s : StepSelection.parse(atSteps != null ? atSteps : fallback, stepCount)) {
            out.add(s - 1);
        }
        return out;
    }

    /** First, middle and last step, from 1. */
    static String firstMiddleLast(int stepCount) {
        return new TreeSet<>(List.of(1, (stepCount + 1) / 2, stepCount)).stream().map(String::valueOf)
                .reduce((a, b) -> a + "," + b).orElseThrow();
    }

    Capture.Rows rows() {
        try {
            return Capture.Rows.valueOf(rows.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UnetlensException("--rows must be cond, uncond or all, got '" + rows + "'");
        }
    }
}
