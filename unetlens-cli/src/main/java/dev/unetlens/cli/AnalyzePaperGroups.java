package dev.unetlens.cli;

import dev.unetlens.analysis.paper.PaperRun.Experiment;
import picocli.CommandLine.Command;

import java.util.Set;

/** {@code unetlens analyze groups}: one experiment of {@link dev.unetlens.analysis.paper.PaperRun}. */
@Command(name = "groups", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Token-group similarity: corner, border and other tokens, plain and de-confounded two ways.",
        description = {"One experiment of \"Latent Diffusion U-Net Representations Contain Positional Embeddings and",
            "Anomalies\" (Loos & Linhardt, ICLR 2025 DeLTa) on your model and images; 'analyze paper' runs all three.",
            "Defaults as the paper: --at paper, --timestep 50, --seed 42, one noise draw per image."})
final class AnalyzePaperGroups extends AnalyzePaperKind {
    @Override
    String kind() {
        return "groups";
    }

    @Override
    Set<Experiment> experiments() {
        return Set.of(Experiment.GROUPS);
    }
}
