package dev.unetlens.cli;

import dev.unetlens.analysis.paper.PaperRun.Experiment;
import picocli.CommandLine.Command;

import java.util.Set;

/** {@code unetlens analyze probe}: one experiment of {@link dev.unetlens.analysis.paper.PaperRun}. */
@Command(name = "probe", mixinStandardHelpOptions = true, sortOptions = false,
        header = "The positional probe: a linear classifier from a token's channels to its position, per module.",
        description = {"One experiment of \"Latent Diffusion U-Net Representations Contain Positional Embeddings and",
            "Anomalies\" (Loos & Linhardt, ICLR 2025 DeLTa) on your model and images; 'analyze paper' runs all three.",
            "Defaults as the paper: --at paper, --timestep 50, --seed 42, one noise draw per image."})
final class AnalyzePaperProbe extends AnalyzePaperKind {
    @Override
    String kind() {
        return "probe";
    }

    @Override
    Set<Experiment> experiments() {
        return Set.of(Experiment.PROBE);
    }
}
