package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.Sampling;
import dev.unetlens.analysis.channels.ChannelMagnitudes;
import dev.unetlens.analysis.channels.ChannelReport;
import dev.unetlens.analysis.images.ImageSet;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.StableDiffusion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Map;

/** {@code unetlens analyze channels}: {@link ChannelMagnitudes}. */
@Command(name = "channels", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Are channel scales comparable? Mean |x| per channel, module and timestep.",
        description = {"Per module and timestep, the mean |x| of every channel over positions, noise draws and images: the",
            "channels sorted (a line per timestep), a histogram on logarithmic bins at --hist-timestep, max/min, max/median",
            "and how many channels hold half of the magnitude. --generated PROMPT compares a generation's last step with",
            "extraction from the generated image. Defaults: --at mid_block, --timesteps 0-500(+50), --samples 1."})
final class AnalyzeChannels extends AnalyzeKind {
    @Option(names = "--hist-timestep", paramLabel = "T", description = "Timestep of the histogram (default: 100, else the first).")
    Integer histTimestep;

    @Option(names = "--bins", paramLabel = "N", defaultValue = "50", description = "Logarithmic histogram bins (default: ${DEFAULT-VALUE}).")
    int bins;

    @Option(names = "--generated", paramLabel = "PROMPT",
            description = "Generate PROMPT (the generation options apply), compare its last step with extraction from the image.")
    String generated;

    @Override
    String kind() {
        return "channels";
    }

    @Override
    String defaultModules() {
        return "mid_block";
    }

    @Override
    List<Integer> defaultTimesteps() {
        return ChannelMagnitudes.DEFAULT_TIMESTEPS;
    }

    @Override
    int defaultSamples() {
        return 1;
    }

    @Override
    boolean hasOwnInput() {
        return generated != null;
    }

    @Override
    void checkOptions(List<Integer> timesteps) {
        if (generated != null && (input.given() || input.promptsFile != null)) {
            throw new UnetlensException("--generated makes its own image; leave out --images and --prompts");
        }
        options(new Sampling(List.of("check"), timesteps, 1, 1, 0, "", dev.unetlens.extract.ImageFeatures.Latent.MEAN, false));
    }

    private ChannelMagnitudes.Options options(Sampling s) {
        int t = histTimestep != null ? histTimestep : defaultAmong(s.timesteps(), 100);
        return new ChannelMagnitudes.Options(s, t, bins);
    }

    @Override
    void run(StableDiffusion sd, ImageSet images, Sampling s, OutputDirectory out, ObjectNode request) {
        ChannelMagnitudes.Options o = options(s);
        ChannelMagnitudes.Result r;
        if (generated != null) {
            GenerationRequest g = generation.request(sd, List.of(generated), s.seed());
            r = ChannelMagnitudes.ofGeneration(sd, g, o, ConsoleProgress.forStderr());
            out.write("generated.png", os -> r.generation().image().writePng(os, Map.of("prompt", generated,
                    "seed", Long.toString(g.seed()))), "the generated image: " + generated);
            request.put("generated", generated);
        } else {
            r = ChannelMagnitudes.of(sd, images, o, ConsoleProgress.forStderr());
        }
        ChannelReport.write(r, request, out);
    }
}
