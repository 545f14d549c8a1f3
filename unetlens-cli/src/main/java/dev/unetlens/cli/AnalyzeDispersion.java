package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.dispersion.Dispersion;
import dev.unetlens.analysis.dispersion.DispersionReport;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.pipeline.StableDiffusion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;

/** {@code unetlens analyze dispersion}: {@link Dispersion}. */
@Command(name = "dispersion", mixinStandardHelpOptions = true, sortOptions = false,
        header = "How much do representations move between noise draws? Std maps and std against timestep.",
        description = {"For each image, N noise draws at the modules (joined at the largest size by sdhelper's concat): the std",
            "over draws of every channel and position, averaged over channels, as an H×W map beside the image (hot, fixed",
            "scale, colour bar) and its mean; the mean std against timestep, a line per image and their mean.",
            "Defaults: --at up_blocks[1], --timesteps 0-250(+50), --samples 100, --map-timestep 50."})
final class AnalyzeDispersion extends AnalyzeKind {
    @Option(names = "--map-timestep", paramLabel = "T", description = "Timestep of the pictures (default: 50, else the first).")
    Integer mapTimestep;

    @Option(names = "--scale", paramLabel = "LO,HI", defaultValue = "0,4",
            description = "Colour scale of the std maps (default: ${DEFAULT-VALUE}, the notebook's).")
    String scale;

    @Override
    String kind() {
        return "dispersion";
    }

    @Override
    String defaultModules() {
        return "up_blocks[1]";
    }

    @Override
    List<Integer> defaultTimesteps() {
        return Dispersion.DEFAULT_TIMESTEPS;
    }

    @Override
    int defaultSamples() {
        return 100;
    }

    @Override
    void checkOptions(List<Integer> timesteps) {
        options(new Sampling(List.of("check"), timesteps, input.samples(defaultSamples()), 1, 0, "",
                dev.unetlens.extract.ImageFeatures.Latent.MEAN, false));
    }

    private Dispersion.Options options(Sampling s) {
        double[] lohi = scale();
        return new Dispersion.Options(s, mapTimestep != null ? mapTimestep : defaultAmong(s.timesteps(), 50), lohi[0], lohi[1]);
    }

    private double[] scale() {
        String[] p = scale.split(",");
        try {
            if (p.length != 2) {
                throw new NumberFormatException();
            }
            double lo = Double.parseDouble(p[0].strip());
            double hi = Double.parseDouble(p[1].strip());
            if (!Double.isFinite(lo) || !Double.isFinite(hi)) {
                throw new NumberFormatException();
            }
            return new double[] {lo, hi};
        } catch (NumberFormatException e) {
            throw new UnetlensException("--scale takes two numbers LO,HI like 0,4, got '" + scale + "'");
        }
    }

    @Override
    void run(StableDiffusion sd, ImageSet images, Sampling s, OutputDirectory out, ObjectNode request) {
        Dispersion.Options o = options(s);
        Dispersion.Result r = Dispersion.of(sd, images, o, DispersionReport.perImage(out, images, o), ConsoleProgress.forStderr());
        DispersionReport.write(r, request, out);
    }
}
