package dev.unetlens.cli;

import dev.unetlens.analysis.paper.PaperRun.Experiment;
import picocli.CommandLine.Command;

import java.util.EnumSet;
import java.util.Set;

/** {@code unetlens analyze paper}: all three experiments of {@link dev.unetlens.analysis.paper.PaperRun}. */
@Command(name = "paper", mixinStandardHelpOptions = true, sortOptions = false,
        header = "The positional-embedding and anomaly paper: probe, token groups and high-norm anomalies, with its figures.",
        description = {"All three experiments of \"Latent Diffusion U-Net Representations Contain Positional Embeddings and",
            "Anomalies\" (Loos & Linhardt, ICLR 2025 DeLTa) on one image folder: the positional probe per module and grid,",
            "corner/border/other similarity (plain, ring dropped, image cropped), norm maps and high-norm anomalies",
            "(detected, or --labels), with the paper's figures and one results.json.",
            "Defaults as the paper: --at paper, --timestep 50, --seed 42, one noise draw per image."})
final class AnalyzePaper extends AnalyzePaperKind {
    @Override
    String kind() {
        return "paper";
    }

    @Override
    Set<Experiment> experiments() {
        return EnumSet.allOf(Experiment.class);
    }
}
