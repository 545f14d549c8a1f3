package dev.unetlens.cli;

import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.TimestepList;
import dev.unetlens.analysis.images.Preprocess;
import picocli.CommandLine.Option;

import dev.unetlens.io.InputFiles;

import java.nio.file.Path;
import java.util.List;

/** {@code analyze}'s inputs: extract's image options plus timestep lists, modules, bad files, the paper's preparation. */
final class AnalysisOptions extends ImageInputOptions {
    @Option(names = "--at", paramLabel = "NAMES",
            description = "Modules (joined by sdhelper's concat where a kind takes several): mid_block, IN05, up_blocks[1], … (default: the kind's).")
    String at;

    @Option(names = "--timesteps", paramLabel = "LIST",
            description = "Timesteps in [0, 999]: 0-500(+50) or 0,50,100 (default: the kind's; --timestep T for one).")
    String timesteps;

    @Option(names = "--prompts", paramLabel = "FILE",
            description = "Generate the images first: one prompt per line (image i gets seed + i; see the generation options).")
    Path promptsFile;

    @Option(names = "--skip-bad", description = "Leave out unreadable image files (listed in the manifest) instead of stopping.")
    boolean skipBad;

    @Option(names = "--paper-prep", paramLabel = "MIN",
            description = "The paper's dataset preparation: skip images whose shorter side is under MIN px (paper: 350),"
                    + " centre-crop a square, resize to --prep-size (PIL bicubic).")
    Integer paperPrep;

    @Option(names = "--prep-size", paramLabel = "PX", defaultValue = "512",
            description = "Side of the square --paper-prep makes (default: ${DEFAULT-VALUE}).")
    int prepSize;

    /** {@code --timesteps}, or {@code --timestep}, or the kind's default. */
    List<Integer> timesteps(List<Integer> fallback) {
        if (timesteps != null && timestep != null) {
            throw new UnetlensException("give --timestep T or --timesteps LIST, not both");
        }
        if (timesteps != null) {
            return TimestepList.parse(timesteps);
        }
        if (timestep != null) {
            if (timestep < 0 || timestep > 999) {
                throw new UnetlensException("--timestep must be in [0, 999], got " + timestep);
            }
            return List.of(timestep);
        }
        return fallback;
    }

    @Override
    Preprocess preprocess() {
        return new Preprocess(resize, crop, paperPrep == null ? null : new Preprocess.Paper(paperPrep, prepSize));
    }

    /** The prompts of {@code --prompts}: its non-blank lines. */
    List<String> prompts() {
        List<String> prompts = InputFiles.readText(promptsFile).lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        if (prompts.isEmpty()) {
            throw new UnetlensException("--prompts: " + promptsFile + " has no prompts (one per line)");
        }
        return prompts;
    }
}
