package dev.unetlens.cli;

import dev.unetlens.UnetlensException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code unetlens analyze <kind>}: one subcommand per analysis; an unknown kind is a one-line error. */
@Command(name = "analyze", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Analyse representations over images, timesteps and noise draws.",
        description = {"Analyse representations over images, timesteps and noise draws: channel magnitudes, dispersion over",
            "draws, token similarity maps; the anomaly paper's experiments (paper, anomalies, groups, probe). Each writes results.json, plots (PNG and SVG), .npy arrays and manifest.json."},
        subcommands = {AnalyzeChannels.class, AnalyzeDispersion.class, AnalyzeSimilarity.class, AnalyzePaper.class,
            AnalyzePaperAnomalies.class, AnalyzePaperGroups.class, AnalyzePaperProbe.class})
public final class AnalyzeCommand implements Callable<Integer> {
    static final String KINDS = "channels, dispersion, similarity, paper, anomalies, groups, probe";

    @Unmatched
    List<String> unmatched;

    @Override
    public Integer call() {
        if (unmatched != null && !unmatched.isEmpty() && !unmatched.getFirst().startsWith("-")) {
            throw new UnetlensException("unknown analysis '" + unmatched.getFirst() + "'; the kinds are " + KINDS);
        }
        throw new UnetlensException("name an analysis: unetlens analyze KIND, one of " + KINDS + " (see --help)");
    }
}
