package dev.unetlens.cli;

import dev.unetlens.analysis.paper.PaperRun.Experiment;
import picocli.CommandLine.Command;

import java.util.Set;

/** {@code unetlens analyze anomalies}: one experiment of {@link dev.unetlens.analysis.paper.PaperRun}. */
@Command(name = "anomalies", mixinStandardHelpOptions = true, sortOptions = false,
        header = "High-norm anomalies: norm maps, automatic detection (or --labels), the paper's norm ratio per module.",
        description = {"One experiment of \"Latent Diffusion U-Net Representations Contain Positional Embeddings and",
            "Anomalies\" (Loos & Linhardt, ICLR 2025 DeLTa) on your model and images; 'analyze paper' runs all three.",
            "Defaults as the paper: --at paper, --timestep 50, --seed 42, one noise draw per image."})
final class AnalyzePaperAnomalies extends AnalyzePaperKind {
    @Override
    String kind() {
        return "anomalies";
    }

    @Override
    Set<Experiment> experiments() {
        return Set.of(Experiment.ANOMALIES);
    }
}
