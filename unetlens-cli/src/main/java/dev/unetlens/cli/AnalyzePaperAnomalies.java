package dev.unetlens.cli;

import dev.unetlens.analysis.paper.PaperRun.Experiment;
import dev.unetlens.analysis.paper.AnomalyAtlas;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;

import java.util.Set;

/** {@code unetlens analyze anomalies}: one experiment of {@link dev.unetlens.analysis.paper.PaperRun}. */
@Command(name = "anomalies", mixinStandardHelpOptions = true, sortOptions = false,
        header = "High-norm anomalies: norm maps, automatic detection (or --labels), the paper's norm ratio per module.",
        description = {"One experiment of \"Latent Diffusion U-Net Representations Contain Positional Embeddings and",
            "Anomalies\" (Loos & Linhardt, ICLR 2025 DeLTa) on your model and images; 'analyze paper' runs all three.",
            "Defaults as the paper: --at paper, --timestep 50, --seed 42, one noise draw per image.",
            "With --timesteps LIST or --seeds LIST: the anomaly atlas (rate and stability per module × timestep, heat maps)."})
final class AnalyzePaperAnomalies extends AnalyzePaperKind {
    @Option(names = "--seeds", paramLabel = "LIST",
            description = "The anomaly atlas: detect at every seed (1,2,3 or 0-9) and timestep (--timesteps), and report per"
                    + " module and timestep the rate of anomalous images and how stable each patch's place is across seeds.")
    String seedList;

    @Override
    boolean atlasAsked(List<Integer> timesteps) {
        return seedList != null || timesteps.size() > 1;
    }

    @Override
    List<Long> seeds() {
        return seedList != null ? AnomalyAtlas.parseSeeds(seedList) : super.seeds();
    }

    @Override
    String kind() {
        return "anomalies";
    }

    @Override
    Set<Experiment> experiments() {
        return Set.of(Experiment.ANOMALIES);
    }
}
